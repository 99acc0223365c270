import { expect, html } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { http, HttpResponse } from 'msw';
import '../../../src/index';
import type { WalletConnectElement } from '../../../src/components/wallet-connect';
import type { PaywallErrorEvent, PaywallWalletConnectEvent, PaywallWindowEvent } from '../../../src/events';
import type { WalletConnection } from '../../../src/protocol';
import type { PaywallServices } from '../../../src/services/paywall-services';
import { BACKEND, notificationsLink, until, worker } from '../helpers/mock-backend';
import { listen, mountInConfig, useKit } from '../helpers/kit-fixture';
import { type Popups, postFromPopup } from '../helpers/popups';

// Own token: test files run in parallel pages that share Web Locks and BroadcastChannels.
const TOKEN = 'wc-token';

const part = (el: WalletConnectElement, name: string) => el.shadowRoot!.querySelector<HTMLElement>(`[part~="${name}"]`);
const status = (el: WalletConnectElement) => el.shadowRoot!.querySelector('[role="status"]')?.textContent!.trim();
const visibleText = (el: WalletConnectElement) => [...el.shadowRoot!.querySelectorAll<HTMLElement>('button, [part="connected"]')].filter((e) => e.checkVisibility()).map((e) => e.textContent!.trim());

describe('<wallet-connect>', () => {
  // Same-tab redirects are recorded, not followed.
  const kit = useKit({ token: TOKEN, recordNavigation: true });
  let popups: Popups, services: PaywallServices, navigated: string[];
  /** What GET /v1/wallet-connections answers, and the requests it saw. */
  let connection: WalletConnection;
  let starts: number, loads: number;
  beforeEach(() => {
    ({ popups, services, navigated } = kit);
    connection = { provider: 'milkipay', status: 'not_connected' };
    starts = 0;
    loads = 0;
    worker.use(
      http.get(`${BACKEND}/v1/wallet-connections`, ({ request }) => {
        loads++;
        if (request.headers.get('authorization') !== `Bearer ${TOKEN}`) return HttpResponse.json({ error: { code: 'unauthenticated', message: 'no' } }, { status: 401 });
        return HttpResponse.json({ connections: [connection] });
      }),
      http.post(`${BACKEND}/v1/wallet-connections/milkipay`, () => {
        starts++;
        return HttpResponse.json({ authorizeUrl: `${BACKEND}/hosted/milkipay/connect?link=sealed-link` });
      }),
    );
  });

  const mount = (locale = 'en') => mountInConfig('wallet-connect', html`<wallet-connect provider="milkipay"></wallet-connect>`, locale);
  const connectedEl = async (locale?: string) => {
    services.session.set(TOKEN);
    const el = await mount(locale);
    await until(() => part(el, 'connect') || part(el, 'connected'), 3000, 'the connection state');
    return el;
  };

  it('signed out: offers "Sign in" and asks nothing; accessible', async () => {
    const el = await mount();
    expect(visibleText(el)).to.deep.equal(['Sign in']);
    await expect(el).to.be.accessible();
  });

  it('not connected: "Connect Milkipay wallet", announced via paywall-wallet-connect; accessible', async () => {
    const events = listen<PaywallWalletConnectEvent>(document, 'paywall-wallet-connect');
    const el = await connectedEl();
    expect(visibleText(el)).to.deep.equal(['Connect Milkipay wallet']);
    expect(events.map((e) => [e.provider, e.status])).to.deep.equal([['milkipay', 'not_connected']]);
    await expect(el).to.be.accessible();
  });

  it('connected: says so, in German too', async () => {
    connection = { provider: 'milkipay', status: 'connected', checkedAt: '2026-03-01T10:00:00.000Z' };
    const el = await connectedEl('de');
    expect(visibleText(el)).to.deep.equal(['Milkipay-Wallet verbunden']);
    await expect(el).to.be.accessible();
  });

  it('an error state shows the mapped message, the raw code in the event, and offers to connect again', async () => {
    connection = { provider: 'milkipay', status: 'error', error: { code: 'account_locked', message: "The reader's Milkipay account is locked. (Milkipay CAI-100-04)", providerCode: 'CAI-100-04' } };
    const errors = listen<PaywallErrorEvent>(document, 'paywall-error');
    const events = listen<PaywallWalletConnectEvent>(document, 'paywall-wallet-connect');
    const el = await connectedEl();
    await until(() => status(el) === 'This wallet account is locked.', 3000, 'the mapped message');
    expect(part(el, 'status')!.classList.contains('error')).to.equal(true);
    expect(events.map((e) => [e.status, e.code])).to.deep.equal([['error', 'account_locked']]);
    expect(errors.map((e) => e.code)).to.deep.equal(['account_locked']);
    expect(visibleText(el)).to.deep.equal(['Connect Milkipay wallet']);
    await expect(el).to.be.accessible();
  });

  it('keyboard: Enter on "Connect" opens the window inside the gesture; a wallet-connected report shows Connected, announced', async () => {
    const el = await connectedEl();
    const windows = listen<PaywallWindowEvent>(el, 'paywall-window');
    part(el, 'connect')!.focus();
    await sendKeys({ press: 'Enter' });
    expect(popups.calls, 'opened inside the key press').to.equal(1);
    expect(status(el)).to.equal('Connect your wallet in the window that opened.');
    const { win, url } = await popups.at('/hosted/milkipay/connect');
    expect(url.searchParams.get('link')).to.equal('sealed-link');
    expect(url.searchParams.get('lang')).to.equal('en');
    expect(part(el, 'connect')!.getAttribute('aria-busy')).to.equal('true');
    connection = { provider: 'milkipay', status: 'connected' };
    postFromPopup(win, { source: 'paywall-kit', type: 'wallet-connected' });
    await until(() => part(el, 'connected'), 3000, 'the connected state');
    expect(status(el)).to.equal('Milkipay wallet connected');
    expect(windows.map((e) => e.state)).to.deep.equal(['opened', 'completed']);
    expect(starts).to.equal(1);
  });

  it('a failed connection reported by the window shows its mapped message', async () => {
    const el = await connectedEl('de');
    part(el, 'connect')!.click();
    const { win } = await popups.at('/hosted/milkipay/connect');
    postFromPopup(win, { source: 'paywall-kit', type: 'wallet-connect-failed', code: 'wallet_connect_declined', message: 'declined' });
    await until(() => status(el) === 'Das Wallet wurde nicht verbunden.', 3000, 'the declined message');
    expect(visibleText(el)).to.deep.equal(['Milkipay-Wallet verbinden']);
  });

  it('a window closed by hand is not an error; a blocked popup says how to fix it', async () => {
    const el = await connectedEl();
    const errors = listen<PaywallErrorEvent>(document, 'paywall-error');
    part(el, 'connect')!.click();
    const { win } = await popups.at('/hosted/milkipay/connect');
    win.close();
    await until(() => part(el, 'connect')!.getAttribute('aria-busy') === 'false', 3000, 'not busy');
    expect(errors).to.have.length(0);
    expect(status(el)).to.equal('');
    popups.blocked = true;
    part(el, 'connect')!.click();
    await until(() => status(el) === 'The browser blocked the window. Allow pop-ups for this site and try again.', 3000, 'the blocked message');
    expect(errors.map((e) => e.code)).to.deep.equal(['popup_blocked']);
  });

  it('a blocked connect window: says how to fix it and starts no connection', async () => {
    const el = await connectedEl();
    const errors = listen<PaywallErrorEvent>(document, 'paywall-error');
    const windows = listen<PaywallWindowEvent>(el, 'paywall-window');
    popups.blocked = true;
    part(el, 'connect')!.click();
    await until(() => status(el) === 'The browser blocked the window. Allow pop-ups for this site and try again.', 3000, 'the blocked message');
    await until(() => windows.length === 1, 3000, 'the window event');
    expect(windows.map((e) => e.state)).to.deep.equal(['blocked']);
    expect(errors.map((e) => e.code)).to.deep.equal(['popup_blocked']);
    expect(part(el, 'connect')!.getAttribute('aria-busy')).to.equal('false');
    expect(starts, 'no POST').to.equal(0);
  });

  it('a blocked sign-in window: continues in this tab, announced, without an error', async () => {
    popups.blocked = true;
    const el = await mount();
    const windows = listen<PaywallWindowEvent>(el, 'paywall-window');
    const errors = listen<PaywallErrorEvent>(document, 'paywall-error');
    part(el, 'sign-in')!.click();
    await until(() => navigated.length === 1, 3000, 'the redirect');
    expect(new URL(navigated[0]!).pathname).to.equal('/hosted/sign-in');
    await until(() => windows.length === 1, 3000, 'the window event');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(status(el)).to.equal('Opening the payment page…');
    expect(part(el, 'status')!.classList.contains('error')).to.equal(false);
    expect(windows.map((e) => e.state)).to.deep.equal(['blocked']);
    expect(errors).to.have.length(0);
    sessionStorage.removeItem(`paywall-kit:pending:${BACKEND}`);
  });

  it('two elements share one GET', async () => {
    services.session.set(TOKEN);
    const first = await mountInConfig('wallet-connect', html`<wallet-connect provider="milkipay"></wallet-connect><wallet-connect provider="milkipay"></wallet-connect>`);
    const both = [...first.parentElement!.querySelectorAll<WalletConnectElement>('wallet-connect')];
    expect(both).to.have.length(2);
    await until(() => both.every((el) => part(el, 'connect')), 3000, 'both connect buttons');
    expect(loads).to.equal(1);
    services.session.set(`${TOKEN}-b`);
    await until(() => loads === 2, 3000, 'the next reader\'s GET');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(loads, 'one GET for the next reader too').to.equal(2);
  });

  it('opens no notification socket: no notification reports a connection', async () => {
    let sockets = 0;
    worker.use(notificationsLink.addEventListener('connection', () => void sockets++));
    await connectedEl();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sockets).to.equal(0);
  });

  it('a reader switch while a GET is slow: the old answer is dropped, and a 401 after sign-out shows no error', async () => {
    const OTHER = `${TOKEN}-other`;
    const gates = new Map<string, () => void>();
    worker.use(
      http.get(`${BACKEND}/v1/wallet-connections`, async ({ request }) => {
        const token = request.headers.get('authorization')!.slice('Bearer '.length);
        await new Promise<void>((resolve) => gates.set(token, resolve));
        if (token === TOKEN) return HttpResponse.json({ connections: [{ provider: 'milkipay', status: 'connected' }] });
        return HttpResponse.json({ error: { code: 'unauthenticated', message: 'no' } }, { status: 401 });
      }),
    );
    const errors = listen<PaywallErrorEvent>(document, 'paywall-error');
    const events = listen<PaywallWalletConnectEvent>(document, 'paywall-wallet-connect');
    services.session.set(OTHER);
    const el = await mount();
    await until(() => gates.has(OTHER), 3000, 'the first reader\'s GET');
    services.session.set(TOKEN);
    await until(() => gates.has(TOKEN), 3000, 'the second reader\'s GET');
    gates.get(TOKEN)!();
    await until(() => part(el, 'connected'), 3000, 'the second reader\'s connection');
    // The first reader's answer (a 401: their session ended) lands late and changes nothing.
    gates.get(OTHER)!();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(part(el, 'connected')).to.not.equal(null);
    expect(errors).to.have.length(0);
    // Signed out while the GET is on its way: the 401 it gets is not shown next to "Sign in".
    gates.clear();
    services.session.set(OTHER);
    await until(() => gates.has(OTHER), 3000, 'the GET');
    services.session.clear();
    gates.get(OTHER)!();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(visibleText(el)).to.deep.equal(['Sign in']);
    expect(status(el)).to.equal('');
    expect(errors).to.have.length(0);
    expect(events.map((e) => e.status)).to.deep.equal(['connected']);
  });

  it('a backend that does not offer Milkipay: says it is not available, nothing to click', async () => {
    worker.use(http.get(`${BACKEND}/v1/wallet-connections`, () => HttpResponse.json({ connections: [] })));
    services.session.set(TOKEN);
    const el = await mount();
    await until(() => status(el) === 'This payment method is not available right now.', 3000, 'the message');
    expect(visibleText(el)).to.deep.equal([]);
  });

  it('an unknown provider is a visible configuration error', async () => {
    const el = await mountInConfig('wallet-connect', html`<wallet-connect provider="paypal"></wallet-connect>`);
    expect(el.shadowRoot!.querySelector('[role="alert"]')!.textContent).to.equal('Paywall is not configured correctly.');
  });

  it('an unknown provider for a signed-in reader: only the configuration error, no GET; a fixed one loads', async () => {
    services.session.set(TOKEN);
    const errors = listen<PaywallErrorEvent>(document, 'paywall-error');
    const el = await mountInConfig('wallet-connect', html`<wallet-connect provider="paypal"></wallet-connect>`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(errors.map((e) => e.code)).to.deep.equal(['configuration_error']);
    expect(loads).to.equal(0);
    el.provider = 'milkipay';
    await until(() => part(el, 'connect'), 3000, 'the connect button');
    expect(loads).to.equal(1);
  });
});
