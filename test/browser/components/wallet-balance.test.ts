import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { http, HttpResponse } from 'msw';
import '../../../src/index';
import type { PaywallButtonElement } from '../../../src/components/paywall-button';
import type { WalletBalanceElement } from '../../../src/components/wallet-balance';
import type { PaywallBalanceEvent, PaywallErrorEvent, PaywallWindowEvent } from '../../../src/events';
import type { PaywallServices } from '../../../src/services/paywall-services';
import { BACKEND, type FakeBackend, notificationsLink, sleep, until, worker } from '../helpers/mock-backend';
import { listen, mountInConfig, useKit } from '../helpers/kit-fixture';
import { type Popups, postFromPopup } from '../helpers/popups';

// Own token and product ids: test files run in parallel pages that share Web Locks and BroadcastChannels.
const TOKEN = 'wb-token';
const PRODUCT = 'wb-article';

const part = (el: WalletBalanceElement, name: string) => el.shadowRoot!.querySelector<HTMLElement>(`[part~="${name}"]`);
/** The labels of the buttons a reader sees, in order. */
const buttons = (el: WalletBalanceElement) => [...el.shadowRoot!.querySelectorAll('button')].filter((b) => b.checkVisibility()).map((b) => b.textContent!.trim());
/** The balance as shown, without its label for screen readers (visually hidden: a 1px box). */
function balance(el: WalletBalanceElement): string | undefined {
  const shown = part(el, 'balance');
  if (!shown?.checkVisibility()) return undefined;
  const text = [...shown.childNodes].filter((node) => node instanceof Text || (node instanceof Element && node.getBoundingClientRect().height > 1)).map((node) => node.textContent).join('');
  return text.replace(/\s+/g, ' ').trim();
}
const status = (el: WalletBalanceElement) => el.shadowRoot!.querySelector('[role="status"]')?.textContent!.trim();

describe('<wallet-balance>', () => {
  // Same-tab redirects are recorded, not followed.
  const kit = useKit({ token: TOKEN, prices: { [PRODUCT]: 49 }, recordNavigation: true });
  let backend: FakeBackend, popups: Popups, services: PaywallServices, navigated: string[];
  beforeEach(() => ({ backend, popups, services, navigated } = kit));

  const wallet = (locale = 'en') => mountInConfig('wallet-balance', html`<wallet-balance></wallet-balance>`, locale);

  it('signed out: offers "Sign in" and "Create account", and asks nothing', async () => {
    const el = await wallet();
    expect(buttons(el)).to.deep.equal(['Sign in', 'Create account']);
    expect(part(el, 'balance')).to.equal(null);
    expect(backend.requests).to.have.length(0);
    await expect(el).to.be.accessible();
  });

  it('signed in: shows the balance in the local currency format, "Top up" and "Sign out", with one request', async () => {
    services.session.set(TOKEN);
    const event = oneEvent<PaywallBalanceEvent>(document, 'paywall-balance');
    const el = await wallet();
    expect(await event).to.include({ balance: 500, currency: 'EUR' });
    await el.updateComplete;
    expect(balance(el)).to.equal('€5.00');
    expect(buttons(el)).to.deep.equal(['Top up', 'Sign out']);
    expect(backend.sent('/v1/me'), 'the balance is loaded once').to.have.length(1);
    expect(backend.sent('/v1/me')[0]!.authorization).to.equal(`Bearer ${TOKEN}`);
    await expect(el).to.be.accessible();
  });

  it('speaks German with locale="de"', async () => {
    const el = await wallet('de');
    expect(buttons(el)).to.deep.equal(['Anmelden', 'Konto anlegen']);
    services.session.set(TOKEN);
    await until(() => balance(el) === '5,00 €', 3000, 'the balance');
    expect(buttons(el)).to.deep.equal(['Aufladen', 'Abmelden']);
  });

  it('"Sign in" opens the hosted sign-in inside the click; the balance shows once signed in', async () => {
    const el = await wallet();
    part(el, 'sign-in')!.click();
    expect(popups.calls, 'opened inside the click').to.equal(1);
    const { win, url } = await popups.at('/hosted/sign-in');
    expect(url.searchParams.get('origin')).to.equal(location.origin);
    expect(part(el, 'sign-in')!.getAttribute('aria-busy')).to.equal('true');
    expect(status(el)).to.equal('Sign in or create an account in the window that opened.');
    const balanceEvent = oneEvent<PaywallBalanceEvent>(el, 'paywall-balance');
    postFromPopup(win, { source: 'paywall-kit', type: 'signed-in', token: TOKEN });
    expect(await balanceEvent).to.include({ balance: 500, currency: 'EUR' });
    await el.updateComplete;
    expect(balance(el)).to.equal('€5.00');
    expect(buttons(el)).to.deep.equal(['Top up', 'Sign out']);
    expect(services.session.token).to.equal(TOKEN);
    expect(backend.sent('/v1/me'), 'the balance is loaded once').to.have.length(1);
  });

  it('says "Loading…" until the balance arrives', async () => {
    worker.use(http.get(`${BACKEND}/v1/me`, async () => {
      await sleep(300);
      return HttpResponse.json({ customer: { id: 'c', email: 'r@example.com', createdAt: '2026-01-01T00:00:00.000Z' }, wallet: { balance: 1234, currency: 'USD' } });
    }));
    services.session.set(TOKEN);
    const el = await wallet();
    expect(balance(el)).to.equal('Loading…');
    await until(() => balance(el) === 'US$12.34', 3000, 'the balance');
  });

  it('fires paywall-window for its sign-in window', async () => {
    const el = await wallet();
    const windows = listen<PaywallWindowEvent>(el, 'paywall-window');
    part(el, 'sign-in')!.click();
    const { win } = await popups.at('/hosted/sign-in');
    postFromPopup(win, { source: 'paywall-kit', type: 'signed-in', token: TOKEN });
    await until(() => balance(el) === '€5.00', 3000, 'the balance');
    expect(windows.map((e) => e.state)).to.deep.equal(['opened', 'completed']);
    expect(windows[0]!.bubbles && windows[0]!.composed).to.equal(true);
  });

  it('a blocked popup: continues in this tab, announced, without an error', async () => {
    popups.blocked = true;
    const el = await wallet();
    const windows = listen<PaywallWindowEvent>(el, 'paywall-window');
    const errors = listen<PaywallErrorEvent>(document, 'paywall-error');
    part(el, 'sign-in')!.click();
    await until(() => navigated.length === 1, 3000, 'the redirect');
    expect(new URL(navigated[0]!).pathname).to.equal('/hosted/sign-in');
    await until(() => part(el, 'sign-in')!.getAttribute('aria-busy') === 'false', 3000, 'not busy');
    expect(status(el)).to.equal('Opening the payment page…');
    expect(windows.map((e) => e.state)).to.deep.equal(['blocked']);
    expect(errors).to.have.length(0);
    sessionStorage.removeItem(`paywall-kit:pending:${BACKEND}`);
  });

  it('"Create account" opens the hosted sign-up', async () => {
    const el = await wallet();
    part(el, 'sign-up')!.click();
    const { win } = await popups.at('/hosted/sign-up');
    postFromPopup(win, { source: 'paywall-kit', type: 'signed-up', token: TOKEN });
    await until(() => balance(el) === '€5.00', 3000, 'the balance');
  });

  it('ignores a forged sign-in message from another window', async () => {
    const el = await wallet();
    part(el, 'sign-in')!.click();
    const { win } = await popups.at('/hosted/sign-in');
    window.postMessage({ source: 'paywall-kit', type: 'signed-in', token: 'forged' }, location.origin);
    await sleep(100);
    expect(services.session.signedIn).to.equal(false);
    expect(buttons(el)).to.deep.equal(['Sign in', 'Create account']);
    win.close();
    await until(() => status(el) === 'The window was closed. Nothing was charged.', 3000, 'the closed window announced');
  });

  it('a sign-in window closed by hand: announced, no paywall-error, still signed out', async () => {
    const el = await wallet();
    const errors = listen<PaywallErrorEvent>(document, 'paywall-error');
    part(el, 'sign-in')!.click();
    const { win } = await popups.at('/hosted/sign-in');
    win.close();
    await until(() => status(el) === 'The window was closed. Nothing was charged.', 3000, 'the closed window announced');
    expect(part(el, 'sign-in')!.getAttribute('aria-busy')).to.equal('false');
    expect(errors).to.have.length(0);
    expect(buttons(el)).to.deep.equal(['Sign in', 'Create account']);
  });

  it('updates live from wallet.balance.changed', async () => {
    let socket: { send(data: string): void } | null = null;
    worker.use(notificationsLink.addEventListener('connection', ({ client }) => void (socket = client)));
    services.session.set(TOKEN);
    const el = await wallet();
    await until(() => balance(el) === '€5.00' && socket, 3000, 'the first balance and the socket');
    const event = oneEvent<PaywallBalanceEvent>(el, 'paywall-balance');
    socket!.send(JSON.stringify({ id: 7, type: 'wallet.balance.changed', createdAt: new Date().toISOString(), resource: { balance: 1500, currency: 'EUR', delta: 1000, reason: 'top_up' } }));
    const changed = await event;
    expect(changed).to.include({ balance: 1500, currency: 'EUR' });
    expect(changed.bubbles && changed.composed).to.equal(true);
    await el.updateComplete;
    expect(balance(el)).to.equal('€15.00');
  });

  it('"Top up" opens the hosted top-up and shows the new balance after it', async () => {
    services.session.set(TOKEN);
    const el = await wallet();
    await until(() => balance(el) === '€5.00', 3000, 'the first balance');
    part(el, 'top-up')!.click();
    const { win, url } = await popups.at('/hosted/top-up');
    expect(url.searchParams.get('currency')).to.equal('EUR');
    expect(status(el)).to.equal('Top up your wallet in the window that opened.');
    backend.balance = 2500;
    postFromPopup(win, { source: 'paywall-kit', type: 'topped-up' });
    await until(() => balance(el) === '€25.00', 3000, 'the new balance');
    expect(part(el, 'top-up')!.getAttribute('aria-busy')).to.equal('false');
  });

  it('follows a purchase made with a <paywall-button>', async () => {
    services.session.set(TOKEN);
    const wrapper = await fixture<HTMLElement>(html`<paywall-config backend=${BACKEND}><wallet-balance></wallet-balance><paywall-button product=${PRODUCT}></paywall-button></paywall-config>`);
    const el = wrapper.querySelector('wallet-balance')!;
    const button = wrapper.querySelector<PaywallButtonElement>('paywall-button')!;
    await until(() => balance(el) === '€5.00' && button.state === 'idle', 3000, 'ready');
    button.shadowRoot!.querySelector('button')!.click();
    await until(() => balance(el) === '€4.51', 3000, 'the balance after the purchase');
  });

  it('"Sign out" ends the session on the server and everywhere on the page', async () => {
    backend.grants.set(PRODUCT, new Date(Date.now() + 600_000).toISOString());
    services.session.set(TOKEN);
    const wrapper = await fixture<HTMLElement>(html`<paywall-config backend=${BACKEND}><wallet-balance></wallet-balance><paywall-button product=${PRODUCT}></paywall-button></paywall-config>`);
    const el = wrapper.querySelector('wallet-balance')!;
    const button = wrapper.querySelector<PaywallButtonElement>('paywall-button')!;
    await until(() => balance(el) === '€5.00' && button.state === 'granted', 3000, 'signed in with access');
    const events = listen<PaywallBalanceEvent>(el, 'paywall-balance');
    part(el, 'sign-out')!.click();
    await until(() => buttons(el).join() === 'Sign in,Create account', 3000, 'signed out');
    expect(backend.sent('/v1/sessions/current', 'DELETE')).to.have.length(1);
    expect(events.map(({ balance, currency }) => ({ balance, currency }))).to.deep.equal([{ balance: null, currency: null }]);
    await until(() => button.state === 'idle', 3000, 'the button back');
  });

  it('is operated with the keyboard: Tab reaches both buttons, Enter signs in', async () => {
    const wrapper = await fixture<HTMLElement>(html`<paywall-config backend=${BACKEND}><input aria-label="before" /><wallet-balance></wallet-balance></paywall-config>`);
    const el = wrapper.querySelector('wallet-balance')!;
    await el.updateComplete;
    wrapper.querySelector('input')!.focus();
    await sendKeys({ press: 'Tab' });
    // Elements are compared as booleans: a failed comparison of two elements hangs the runner.
    expect(el.shadowRoot!.activeElement === part(el, 'sign-in'), 'on "Sign in"').to.equal(true);
    await sendKeys({ press: 'Tab' });
    expect(el.shadowRoot!.activeElement === part(el, 'sign-up'), 'on "Create account"').to.equal(true);
    await sendKeys({ down: 'Shift' });
    await sendKeys({ press: 'Tab' });
    await sendKeys({ up: 'Shift' });
    expect(el.shadowRoot!.activeElement === part(el, 'sign-in'), 'back on "Sign in"').to.equal(true);
    await sendKeys({ press: 'Enter' });
    const { win } = await popups.at('/hosted/sign-in');
    postFromPopup(win, { source: 'paywall-kit', type: 'signed-in', token: TOKEN });
    await until(() => balance(el) === '€5.00', 3000, 'the balance');
  });

  it('a malformed balance answer: an error shown and paywall-error, not an exception', async () => {
    worker.use(http.get(`${BACKEND}/v1/me`, () => HttpResponse.json({ customer: { id: 'x' }, wallet: { balance: -5, currency: 'euro' } })));
    services.session.set(TOKEN);
    const error = oneEvent<PaywallErrorEvent>(document, 'paywall-error');
    const el = await wallet();
    expect((await error).code).to.equal('invalid_response');
    await el.updateComplete;
    const shown = el.shadowRoot!.querySelector<HTMLElement>('[role="status"]')!;
    expect(shown.textContent!.trim()).to.equal('The payment service answered unexpectedly. Try again later.');
    expect(shown.getBoundingClientRect().height, 'visible').to.be.greaterThan(1);
    expect(balance(el) ?? '', 'no endless "Loading…"').not.to.contain('Loading');
    await expect(el).to.be.accessible();
  });

  it('a rejected session token signs the reader out', async () => {
    services.session.set('wb-expired-token');
    const el = await wallet();
    await until(() => buttons(el).join() === 'Sign in,Create account', 3000, 'signed out');
    expect(services.session.signedIn).to.equal(false);
  });
});
