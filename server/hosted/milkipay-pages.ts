import type { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { HostedMessage } from '../../src/protocol';
import type { AppEnv } from '../http/context';
import type { Services } from '../services';
import { pageLang } from './i18n';
import { milkipayDictionaries } from './milkipay-i18n';
import { completePage, errorPage } from './templates';

/** Ties the callback to the browser that started the connection (the OAuth `state` carries its twin). */
const NONCE_COOKIE = 'paywall_milkipay_nonce';
const COOKIE_PATH = '/hosted/milkipay';

/**
 * Connecting a Milkipay wallet in the hosted window. `/hosted/milkipay/connect?link=…` (a link the
 * API minted for the signed-in reader) sends the window to Milkipay's authorize page, whose URL
 * carries the client token and is therefore only ever built here; Milkipay sends the reader back
 * to `/hosted/milkipay/callback?code=…&state=…`, which connects the wallet and reports to the opener.
 */
export function registerMilkipayPages(app: Hono<AppEnv>, { milkipay, config }: Services): void {
  if (!milkipay) return;

  app.get('/hosted/milkipay/connect', (c) => {
    const lang = pageLang(c.req);
    const t = milkipayDictionaries[lang];
    const started = milkipay.authorize(c.req.query('link') ?? '', lang);
    if (!started) return c.html(errorPage(lang, t.linkInvalid), 400);
    // Lax: the callback is a top-level navigation back from Milkipay, so the cookie comes along.
    setCookie(c, NONCE_COOKIE, started.nonce, { httpOnly: true, sameSite: 'Lax', path: COOKIE_PATH, maxAge: 30 * 60, secure: config.publicBaseUrl.startsWith('https:') });
    return c.redirect(started.authorizeUrl, 303);
  });

  app.get('/hosted/milkipay/callback', async (c) => {
    const flow = milkipay.flowOf(c.req.query('state') ?? '', getCookie(c, NONCE_COOKIE));
    const lang = pageLang(c.req, flow?.lang);
    const t = milkipayDictionaries[lang];
    if (!flow) return c.html(errorPage(lang, t.linkInvalid), 400);
    deleteCookie(c, NONCE_COOKIE, { path: COOKIE_PATH });
    const params = { lang, ...(flow.origin ? { origin: flow.origin } : {}) };
    const report = (message: Omit<HostedMessage, 'source'>, detail: string) => c.html(completePage(params, { source: 'paywall-kit', ...message }, detail));
    const code = c.req.query('code');
    if (!code || code.length > 2048) return report({ type: 'wallet-connect-failed', code: 'wallet_connect_declined', message: t.declined }, t.declined);
    const connection = await milkipay.connect(flow.customer, code);
    if (connection.status === 'connected') return report({ type: 'wallet-connected' }, t.connected);
    const error = connection.error!;
    return report({ type: 'wallet-connect-failed', code: error.code, message: error.message }, error.message);
  });
}
