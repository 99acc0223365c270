import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie, setCookie } from 'hono/cookie';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import * as z from 'zod/mini';
import { IdempotencyKey } from '../../src/protocol';
import type { HostedMessage } from '../../src/protocol/hosted-messages';
import { ApiError } from '../errors';
import type { AppEnv } from '../http/context';
import type { Services } from '../services';
import { readCard } from './card-form';
import { dictionaries, errorMessage, type Lang } from './i18n';
import { hostedHref, readParams, type HostedParams } from './params';
import { registerMilkipayPages } from './milkipay-pages';
import { registerPaymentPages } from './payment-routes';
import {
  amountChoices,
  completePage,
  errorPage,
  formatMoney,
  signInPage,
  signUpPage,
  topUpPage,
  type FormError,
  type SignInField,
  type SignUpField,
  type TopUpField,
  type TopUpState,
} from './templates';

/** Cookie that holds the hosted session token; only the hosted pages ever see it. */
export const HOSTED_COOKIE = 'paywall_hosted_session';

export const HOSTED_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

const MAX_FORM_BYTES = 16 * 1024;

const assets = {
  'hosted.css': { type: 'text/css; charset=utf-8', body: readFileSync(new URL('./assets/hosted.css', import.meta.url), 'utf8') },
  'complete.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('./assets/complete.js', import.meta.url), 'utf8') },
  'icon.svg': { type: 'image/svg+xml', body: readFileSync(new URL('./assets/icon.svg', import.meta.url), 'utf8') },
};

type Form = Record<string, string>;

async function readForm(c: Context<AppEnv>): Promise<Form> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/x-www-form-urlencoded\b/i.test(type) && !/^multipart\/form-data\b/i.test(type)) return {};
  const raw = await c.req.parseBody();
  const form: Form = Object.create(null);
  for (const [key, value] of Object.entries(raw)) if (typeof value === 'string') form[key] = value;
  return form;
}

/**
 * A form post must come from the backend's own pages. Browsers send `Origin: null` for a
 * same-origin form post from a page whose Referrer-Policy is no-referrer (Fetch standard), so
 * `null` is accepted only together with the unforgeable `Sec-Fetch-Site: same-origin`.
 */
function isSameOriginPost(c: Context<AppEnv>, ownOrigin: string): boolean {
  const origin = c.req.header('origin');
  if (origin === undefined || origin === ownOrigin) return true;
  return origin === 'null' && c.req.header('sec-fetch-site') === 'same-origin';
}

const newIdempotencyKey = () => `hosted_${randomBytes(18).toString('base64url')}`;

export function hostedRoutes(services: Services): Hono<AppEnv> {
  const { accounts, topUps, config, urls } = services;
  const app = new Hono<AppEnv>();

  const problem = (c: Context<AppEnv>, status: ContentfulStatusCode, message: (lang: Lang) => string) => {
    const result = readParams(c.req, urls);
    const lang = result.ok ? result.params.lang : result.lang;
    return c.html(errorPage(lang, message(lang)), status);
  };

  app.use('/hosted/*', async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(HOSTED_HEADERS)) c.res.headers.set(name, value);
  });
  app.use('/hosted/*', async (c, next) => {
    if (c.req.method === 'POST' && !isSameOriginPost(c, config.ownOrigin)) return problem(c, 403, (l) => dictionaries[l].crossOriginPost);
    await next();
  });
  app.use('/hosted/*', bodyLimit({ maxSize: MAX_FORM_BYTES, onError: (c) => problem(c as Context<AppEnv>, 413, (l) => dictionaries[l].payloadTooLarge) }));

  for (const [name, asset] of Object.entries(assets)) {
    app.get(`/hosted/assets/${name}`, (c) => c.body(asset.body, 200, { 'Content-Type': asset.type }));
  }
  // Browsers ask any page's origin for /favicon.ico when nothing names an icon (the backend's JSON and return pages).
  app.get('/favicon.ico', (c) => c.body(assets['icon.svg'].body, 200, { 'Content-Type': assets['icon.svg'].type }));

  /** Validated parameters, or the error page that says what is wrong (and posts nothing). */
  const withParams = (handler: (c: Context<AppEnv>, params: HostedParams) => Promise<Response> | Response) => async (c: Context<AppEnv>) => {
    const result = readParams(c.req, urls);
    if (!result.ok) {
      const t = dictionaries[result.lang];
      return c.html(errorPage(result.lang, result.problem.kind === 'return' ? t.returnNotAllowed : result.problem.origin ? t.originNotAllowed(result.problem.origin) : t.originInvalid), 400);
    }
    return handler(c, result.params);
  };

  const startSession = (c: Context<AppEnv>, token: string) =>
    setCookie(c, HOSTED_COOKIE, token, { httpOnly: true, sameSite: 'Lax', path: '/hosted', secure: config.publicBaseUrl.startsWith('https:') });

  const complete = (c: Context<AppEnv>, params: HostedParams, message: HostedMessage, detail: string) => c.html(completePage(params, message, detail), 200);

  const statusOf = (error: ApiError): ContentfulStatusCode => error.status;

  // -------------------------------------------------------------------------------------------
  // Sign-up

  const startCredit = config.startCredit;
  app.get('/hosted/sign-up', withParams((c, params) => c.html(signUpPage(params, { startCredit }))));
  app.post(
    '/hosted/sign-up',
    withParams(async (c, params) => {
      const t = dictionaries[params.lang];
      const form = await readForm(c);
      const email = (form.email ?? '').slice(0, 254);
      const password = form.password ?? '';
      const consent = form.consent === 'yes';
      const again = (error: FormError<SignUpField>, status: ContentfulStatusCode) => c.html(signUpPage(params, { email, consent, error, startCredit }), status);
      if (!email.trim()) return again({ message: t.enterEmail, field: 'email' }, 400);
      if (!password) return again({ message: t.enterPassword, field: 'password' }, 400);
      if (password.length > 1024) return again({ message: t.errors.weak_password, field: 'password' }, 400);
      if (!consent) return again({ message: t.consentRequired, field: 'consent' }, 400);
      let token: string;
      try {
        ({ token } = await accounts.signUp(email, password));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        const field: SignUpField | undefined = error.code === 'weak_password' ? 'password' : error.code === 'invalid_email' || error.code === 'email_taken' ? 'email' : undefined;
        return again({ message: errorMessage(params.lang, error), field }, statusOf(error));
      }
      startSession(c, token);
      if (params.next === 'top-up') return c.redirect(hostedHref('top-up', params, { next: null }), 303);
      return complete(c, params, { source: 'paywall-kit', type: 'signed-up', token }, t.signedUpDone);
    }),
  );

  // -------------------------------------------------------------------------------------------
  // Sign-in

  app.get('/hosted/sign-in', withParams((c, params) => c.html(signInPage(params, {}))));
  app.post(
    '/hosted/sign-in',
    withParams(async (c, params) => {
      const t = dictionaries[params.lang];
      const form = await readForm(c);
      const email = (form.email ?? '').slice(0, 254);
      const password = form.password ?? '';
      const again = (error: FormError<SignInField>, status: ContentfulStatusCode) => c.html(signInPage(params, { email, error }), status);
      if (!email.trim()) return again({ message: t.enterEmail, field: 'email' }, 400);
      if (!password) return again({ message: t.enterPassword, field: 'password' }, 400);
      if (password.length > 1024) return again({ message: t.errors.invalid_credentials, fields: ['email', 'password'] }, 401);
      let token: string;
      try {
        ({ token } = await accounts.signIn(email, password));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        const fields: SignInField[] = error.code === 'invalid_credentials' ? ['email', 'password'] : ['email'];
        return again({ message: errorMessage(params.lang, error), fields }, statusOf(error));
      }
      startSession(c, token);
      if (params.next === 'top-up') return c.redirect(hostedHref('top-up', params, { next: null }), 303);
      return complete(c, params, { source: 'paywall-kit', type: 'signed-in', token }, t.signedInDone);
    }),
  );

  // -------------------------------------------------------------------------------------------
  // Top-up

  const currentCustomer = (c: Context<AppEnv>) => accounts.authenticate(getCookie(c, HOSTED_COOKIE));
  const signInFirst = (c: Context<AppEnv>, params: HostedParams, error?: FormError<SignInField>) =>
    c.html(signInPage({ ...params, next: 'top-up' }, error ? { error } : {}), error ? 401 : 200);

  app.get(
    '/hosted/top-up',
    withParams(async (c, params) => {
      const auth = await currentCustomer(c);
      if (!auth) return signInFirst(c, params);
      const currency = params.currency ?? config.startCredit.currency;
      return c.html(topUpPage(params, { email: auth.customer.email, currency, idempotencyKey: newIdempotencyKey() }));
    }),
  );
  app.post(
    '/hosted/top-up',
    withParams(async (c, params) => {
      const t = dictionaries[params.lang];
      const auth = await currentCustomer(c);
      if (!auth) return signInFirst(c, params, { message: t.errors.unauthenticated });
      const form = await readForm(c);
      const currency = params.currency ?? config.startCredit.currency;
      const amount = /^[0-9]{1,9}$/.test(form.amount ?? '') ? Number(form.amount) : undefined;
      const expMonth = (form.expMonth ?? '').trim().slice(0, 4);
      const expYear = (form.expYear ?? '').trim().slice(0, 6);
      const again = (error: FormError<TopUpField>, status: ContentfulStatusCode) => {
        const state: TopUpState = { email: auth.customer.email, currency, idempotencyKey: newIdempotencyKey(), expMonth, expYear, error };
        if (amount !== undefined) state.amount = amount;
        return c.html(topUpPage(params, state), status);
      };

      if (amount === undefined || !amountChoices(params.amount).choices.includes(amount)) return again({ message: t.chooseAmount, field: 'amount' }, 400);
      const card = readCard(form, expMonth, expYear);
      if ('invalid' in card) return again({ message: t[card.message], field: card.invalid }, 400);
      const idempotencyKey = form.idempotencyKey ?? '';
      if (!z.safeParse(IdempotencyKey, idempotencyKey).success) return again({ message: t.formExpired }, 400);

      let balance: { balance: number; currency: string };
      try {
        balance = await topUps.topUp(auth.customer.id, { amount, currency, card, idempotencyKey });
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        if (error.code === 'unauthenticated') return signInFirst(c, params, { message: errorMessage(params.lang, error) });
        const field: TopUpField | undefined = error.code === 'card_declined' || error.code === 'insufficient_funds' ? 'cardNumber' : error.code === 'currency_mismatch' ? 'amount' : undefined;
        return again({ message: errorMessage(params.lang, error), field }, statusOf(error));
      }
      return complete(c, params, { source: 'paywall-kit', type: 'topped-up' }, t.toppedUpDone(formatMoney(balance.balance, balance.currency, params.lang)));
    }),
  );

  // Card checkout and 3-D Secure (payment-routes.ts).
  registerPaymentPages(app, services, readForm);
  registerMilkipayPages(app, services);

  // Anything else under /hosted is an HTML page too, with the same headers.
  app.all('/hosted/*', (c) => problem(c, 404, (l) => dictionaries[l].notFound));

  app.onError((error, c) => {
    services.logger.error({ err: error, path: c.req.path }, 'hosted page error');
    return problem(c, 500, (l) => dictionaries[l].internalError);
  });

  return app;
}
