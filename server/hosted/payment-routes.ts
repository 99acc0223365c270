import type { Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { HostedMessage } from '../../src/protocol';
import { CheckoutProblem, type CheckoutOutcome } from '../domain/card-payments';
import type { CheckoutRow, IntentRow } from '../store/schema';
import { ApiError } from '../errors';
import type { AppEnv } from '../http/context';
import type { Services } from '../services';
import { dictionaries, errorMessage, pageLang, type Lang } from './i18n';
import type { HostedParams } from './params';
import { formatDate, paymentDictionaries, type PaymentDictionary } from './payment-i18n';
import { readCard } from './card-form';
import type { CatalogPlan } from '../config';
import { readCallback } from '../http/read-callback';
import { receiveCallback } from '../domain/receive-callback';
import { bankPage, checkoutPage, noticePage } from './payment-templates';
import { completePage, errorPage, type CardField, type FormError } from './templates';

type Form = Record<string, string>;

const PROBLEMS: Record<CheckoutProblem['reason'], keyof PaymentDictionary> = {
  not_found: 'linkInvalid',
  expired: 'checkoutExpired',
  subscription_exists: 'subscriptionExists',
  plan_unavailable: 'planUnavailable',
};

/**
 * The hosted checkout link (`/hosted/checkout?checkout=…`, which goes on to the provider's page:
 * the sandbox's card form at `/hosted/sandbox/card`, or a real provider's), the provider return
 * page, and the sandbox bank's 3-D Secure page
 * (`/hosted/3ds?intent=…&sig=…`), added to the hosted pages' app so they share its headers
 * (CSP, no framing, no caching), its same-origin rule for form posts and its size limit.
 * Where to report (the opener's origin) and where to return come from what the API stored when
 * the checkout was created, never from the page's query string.
 */
export function registerPaymentPages(app: Hono<AppEnv>, services: Services, readForm: (c: Context<AppEnv>) => Promise<Form>): void {
  const { cardPayments, paymentIntents, config, clock, links, providers, database } = services;

  const paramsOf = (lang: Lang, row: { origin: string | null; return_url: string | null }): HostedParams => ({
    lang, ...(row.origin ? { origin: row.origin } : {}), ...(row.return_url ? { returnUrl: row.return_url } : {}),
  });
  const cardFormHref = (id: string, lang?: Lang) => `/hosted/sandbox/card?${new URLSearchParams({ checkout: id, ...(lang ? { lang } : {}) })}`;
  const bankHref = (intentId: string, lang?: Lang) => {
    const url = new URL(links.authenticationUrl(intentId));
    if (lang) url.searchParams.set('lang', lang);
    return url.pathname + url.search;
  };
  const message = (fields: Omit<HostedMessage, 'source'>): HostedMessage => ({ source: 'paywall-kit', ...fields });
  const problemPage = (c: Context<AppEnv>, lang: Lang, problem: CheckoutProblem) =>
    c.html(errorPage(lang, paymentDictionaries[lang][PROBLEMS[problem.reason]] as string), problem.status);

  // -------------------------------------------------------------------------------------------
  // Checkout

  const renderForm = (c: Context<AppEnv>, lang: Lang, checkout: CheckoutRow, state: { expMonth?: string; expYear?: string; error?: FormError<CardField> } = {}, status: ContentfulStatusCode = 200) => {
    const plan = checkout.plan ? config.plans.get(checkout.plan) ?? null : null;
    const includes = (plan?.products ?? []).map((id) => config.products.get(id)?.title ?? id);
    const page = checkoutPage(paramsOf(lang, checkout), {
      kind: checkout.kind, title: checkout.title, price: Number(checkout.price), currency: checkout.currency,
      validity: checkout.validity === null ? null : Number(checkout.validity), plan, includes,
      action: cardFormHref(checkout.id, lang), languageHref: (other) => cardFormHref(checkout.id, other),
    }, state);
    return c.html(page, status);
  };

  const renderOutcome = (c: Context<AppEnv>, lang: Lang, checkout: CheckoutRow, outcome: CheckoutOutcome) => {
    const p = paymentDictionaries[lang];
    const params = paramsOf(lang, checkout);
    switch (outcome.kind) {
      case 'subscribed': {
        const sub = outcome.subscription;
        const until = formatDate(Number(sub.access_until), lang);
        const detail = sub.trial_end !== null && Number(sub.current_period) === 0 ? p.trialDone(sub.title, until) : p.subscribedDone(sub.title, until);
        return c.html(completePage(params, message({ type: 'subscribed', subscription: sub.id, ...(outcome.paymentIntent ? { paymentIntent: outcome.paymentIntent } : {}) }), detail));
      }
      case 'paid':
        return c.html(completePage(params, message({ type: 'payment-succeeded', product: outcome.product, ...(outcome.paymentIntent ? { paymentIntent: outcome.paymentIntent } : {}) }), p.paidDone(outcome.title, formatDate(outcome.expiresAt, lang))));
      case 'requires_action':
        // The window goes on to the bank page; the reader answers there.
        return c.redirect(bankHref(outcome.paymentIntent, lang), 303);
      case 'authenticated':
        return c.html(completePage(params, message({ type: 'payment-intent', paymentIntent: outcome.paymentIntent }), p.authenticated));
      case 'failed':
        if (checkout.kind === 'payment' && outcome.paymentIntent) {
          return c.html(completePage(params, message({ type: 'payment-intent', paymentIntent: outcome.paymentIntent }), p.paymentNotAuthenticated));
        }
        return c.html(completePage(params, message({
          type: 'payment-failed', code: outcome.code, message: outcome.message,
          ...(outcome.subscription ? { subscription: outcome.subscription } : {}), ...(outcome.paymentIntent ? { paymentIntent: outcome.paymentIntent } : {}),
        }), p.notStarted));
    }
  };

  /** The window goes on to the hosted page of the checkout's provider (the sandbox's is its card form below). */
  const toProvider = async (c: Context<AppEnv>, lang: Lang, checkout: CheckoutRow, plan: CatalogPlan | null) => {
    const provider = providers.get(checkout.provider);
    if (!provider) return c.html(errorPage(lang, paymentDictionaries[lang].planUnavailable), 410);
    const customer = await database.db.selectFrom('customers').select(['id', 'email']).where('id', '=', checkout.customer_id).executeTakeFirstOrThrow();
    const back = (result: 'success' | 'decline') => new URL(`/hosted/providers/${provider.name}/return?${new URLSearchParams({ checkout: checkout.id, result, lang })}`, config.publicBaseUrl).href;
    return c.redirect(await provider.startCheckout({ checkout, plan, customer, successUrl: back('success'), declineUrl: back('decline'), lang }), 303);
  };

  app.get('/hosted/checkout', async (c) => {
    const lang = pageLang(c.req);
    try {
      const found = await cardPayments.checkout(c.req.query('checkout') ?? '');
      if ('outcome' in found) return renderOutcome(c, lang, found.checkout, found.outcome);
      return toProvider(c, lang, found.view.checkout, found.view.plan);
    } catch (error) {
      if (error instanceof CheckoutProblem) return problemPage(c, lang, error);
      throw error;
    }
  });

  const providerOf = (found: Awaited<ReturnType<typeof cardPayments.checkout>>) => ('outcome' in found ? found.checkout : found.view.checkout).provider;

  /** The sandbox's hosted card form, for a checkout the sandbox takes. */
  const sandboxCheckout = async (id: string) => {
    const found = await cardPayments.checkout(id);
    if (providerOf(found) !== 'sandbox') throw new CheckoutProblem('not_found', 404);
    return found;
  };

  app.get('/hosted/sandbox/card', async (c) => {
    const lang = pageLang(c.req);
    try {
      const found = await sandboxCheckout(c.req.query('checkout') ?? '');
      return 'outcome' in found ? renderOutcome(c, lang, found.checkout, found.outcome) : renderForm(c, lang, found.view.checkout);
    } catch (error) {
      if (error instanceof CheckoutProblem) return problemPage(c, lang, error);
      throw error;
    }
  });

  app.post('/hosted/sandbox/card', async (c) => {
    const lang = pageLang(c.req);
    const t = dictionaries[lang];
    const id = c.req.query('checkout') ?? '';
    try {
      const found = await sandboxCheckout(id);
      if ('outcome' in found) return renderOutcome(c, lang, found.checkout, found.outcome);
      const checkout = found.view.checkout;
      const form = await readForm(c);
      const expMonth = (form.expMonth ?? '').trim().slice(0, 4);
      const expYear = (form.expYear ?? '').trim().slice(0, 6);
      const again = (error: FormError<CardField>, status: ContentfulStatusCode) => renderForm(c, lang, checkout, { expMonth, expYear, error }, status);
      const card = readCard(form, expMonth, expYear);
      if ('invalid' in card) return again({ message: t[card.message], field: card.invalid }, 400);
      let result: Awaited<ReturnType<typeof cardPayments.submitCheckout>>;
      try {
        result = await cardPayments.submitCheckout(id, card);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        // Declined: the reader may try another card on the same page; nothing was written.
        return again({ message: errorMessage(lang, error), field: 'cardNumber' }, error.status);
      }
      return renderOutcome(c, lang, result.checkout, result.outcome);
    } catch (error) {
      if (error instanceof CheckoutProblem) return problemPage(c, lang, error);
      throw error;
    }
  });

  /**
   * Where a provider sends the reader back. A signed return (Verotel) is applied like its
   * postback, whichever comes first; then the page reports what the checkout led to. Until the
   * provider has confirmed the payment it waits, refreshing itself, so nothing is shown as paid early.
   */
  app.get('/hosted/providers/:provider/return', async (c) => {
    const lang = pageLang(c.req);
    const p = paymentDictionaries[lang];
    const provider = providers.get(c.req.param('provider'));
    const checkoutId = c.req.query('checkout') ?? '';
    if (!provider) return c.html(errorPage(lang, p.linkInvalid), 404);
    try {
      const found = await cardPayments.checkout(checkoutId);
      if (providerOf(found) !== provider.name) return c.html(errorPage(lang, p.linkInvalid), 404);
      const handleReturn = provider.handleReturn?.bind(provider);
      // Recorded and logged like a callback; a refused one grants nothing and the page waits for the callback.
      if (c.req.query('result') !== 'decline' && handleReturn) await receiveCallback(services, provider, await readCallback(c, services.config.proxyHops), handleReturn);
      const now = await cardPayments.checkout(checkoutId);
      if ('outcome' in now) return renderOutcome(c, lang, now.checkout, now.outcome);
      if (c.req.query('result') === 'decline') {
        return c.html(completePage(paramsOf(lang, now.view.checkout), message({ type: 'payment-failed', code: 'payment_declined', message: p.providerDeclined }), p.providerDeclined));
      }
      return c.html(noticePage(lang, p.providerWaitingTitle, p.providerWaiting, 'status', 2));
    } catch (error) {
      if (error instanceof CheckoutProblem) return problemPage(c, lang, error);
      throw error;
    }
  });

  // -------------------------------------------------------------------------------------------
  // 3-D Secure (the sandbox bank)

  const renderBank = (c: Context<AppEnv>, lang: Lang, intent: IntentRow, error?: string) =>
    c.html(bankPage(paramsOf(lang, intent), {
      amount: Number(intent.amount), currency: intent.currency, what: intent.title,
      action: bankHref(intent.id, lang), languageHref: (other) => bankHref(intent.id, other), ...(error ? { error } : {}),
    }), error ? 400 : 200);

  const renderAnswer = async (c: Context<AppEnv>, lang: Lang, intent: IntentRow) => {
    const p = paymentDictionaries[lang];
    const params = paramsOf(lang, intent);
    if (intent.status === 'requires_action') return renderBank(c, lang, intent);
    if (intent.status === 'canceled') return c.html(errorPage(lang, p.authenticationExpired), 410);
    if (intent.kind === 'payment') {
      const ok = intent.status !== 'failed';
      return c.html(completePage(params, message({ type: 'payment-intent', paymentIntent: intent.id }), ok ? p.authenticated : p.paymentNotAuthenticated));
    }
    const sub = await paymentIntents.subscription(intent.subscription_id ?? '');
    const until = sub?.access_until ? formatDate(Number(sub.access_until), lang) : '';
    if (intent.kind === 'subscription') {
      if (intent.status === 'succeeded') return c.html(completePage(params, message({ type: 'subscribed', subscription: intent.subscription_id!, paymentIntent: intent.id }), p.subscribedDone(intent.title, until)));
      return c.html(completePage(params, message({
        type: 'payment-failed', subscription: intent.subscription_id!, paymentIntent: intent.id,
        code: intent.failure_code ?? 'authentication_failed', message: intent.failure_message ?? p.subscriptionNotAuthenticated,
      }), p.subscriptionNotAuthenticated));
    }
    // Off-session renewal, opened from the email: nobody to report to; the page says what happened.
    if (intent.status === 'succeeded') return c.html(noticePage(lang, dictionaries[lang].doneTitle, p.renewalDone(intent.title, until)));
    return c.html(noticePage(lang, p.bankTitle, p.renewalNotAuthenticated, 'alert'));
  };

  /** The intent of a 3-D Secure link; null (an error page) for a missing or forged link. */
  const intentOf = async (c: Context<AppEnv>) => paymentIntents.intentForPage(c.req.query('intent') ?? '', c.req.query('sig') ?? '');

  app.get('/hosted/3ds', async (c) => {
    const lang = pageLang(c.req);
    let intent = await intentOf(c);
    if (!intent) return c.html(errorPage(lang, paymentDictionaries[lang].linkInvalid), 404);
    if (Number(intent.expires_at) <= clock.now().getTime() && (await paymentIntents.expire(intent.id))) intent = (await intentOf(c))!;
    return renderAnswer(c, lang, intent);
  });

  app.post('/hosted/3ds', async (c) => {
    const lang = pageLang(c.req);
    const intent = await intentOf(c);
    if (!intent) return c.html(errorPage(lang, paymentDictionaries[lang].linkInvalid), 404);
    const form = await readForm(c);
    const answer = form.outcome;
    if (answer !== 'approve' && answer !== 'fail') {
      if (intent.status !== 'requires_action') return renderAnswer(c, lang, intent);
      return renderBank(c, lang, intent, dictionaries[lang].errors.generic);
    }
    return renderAnswer(c, lang, await paymentIntents.authenticate(intent.id, answer));
  });
}
