import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { http, HttpResponse } from 'msw';
import '../../../src/index';
import { FIRST_ANSWER_PATIENCE_MS, type PaywallButtonElement } from '../../../src/components/paywall-button';
import { PaywallAccessEvent, PaywallErrorEvent, type PaywallWindowEvent } from '../../../src/events';
import type { PaywallServices } from '../../../src/services/paywall-services';
import { BACKEND, type FakeBackend, notificationsLink, sleep, until, worker } from '../helpers/mock-backend';
import { captureConsole, listen, mountInConfig, useKit } from '../helpers/kit-fixture';
import { FakePayments, intent } from '../helpers/mock-payments';
import { type Popups, postFromPopup } from '../helpers/popups';

// Own token and product ids: test files run in parallel pages that share Web Locks and BroadcastChannels.
const TOKEN = 'pb-token';
const PRODUCT = 'pb-article';
const OTHER = 'pb-other';

/** The text a reader sees: the shadow tree with its slotted content, without what is hidden or visually hidden. */
function shown(node: Node): string {
  if (node instanceof Text) {
    const range = document.createRange();
    range.selectNodeContents(node);
    const box = range.getBoundingClientRect();
    return box.width > 1 && box.height > 1 ? node.data : '';
  }
  if (node instanceof HTMLSlotElement) {
    const assigned = node.assignedNodes({ flatten: true });
    return (assigned.length ? assigned : [...node.childNodes]).map(shown).join('');
  }
  if (!(node instanceof Element) || node instanceof HTMLStyleElement) return '';
  const box = node.getBoundingClientRect();
  if (getComputedStyle(node).display !== 'contents' && (box.width <= 1 || box.height <= 1)) return '';
  return [...(node.shadowRoot ?? node).childNodes].map(shown).join(' ');
}
const seen = (el: Element) => shown(el).replace(/\s+/g, ' ').trim();

const inner = (el: PaywallButtonElement) => el.shadowRoot!.querySelector('button')!;
const status = (el: PaywallButtonElement) => el.shadowRoot!.querySelector('[role="status"]')!.textContent!.trim();

const captureConsoleErrors = () => captureConsole('error');

/** Posts `message` to this page from a sandboxed frame, whose origin is opaque ("null"). */
async function postFromOtherOrigin(message: unknown) {
  const frame = document.createElement('iframe');
  frame.sandbox.add('allow-scripts');
  frame.srcdoc = `<script>parent.postMessage(${JSON.stringify(message)}, '*')</script>`;
  const loaded = new Promise((resolve) => (frame.onload = resolve));
  document.body.append(frame);
  await loaded;
  await sleep(50);
  frame.remove();
}

function offerToken(payload: Record<string, unknown>): string {
  const body = btoa(JSON.stringify(payload)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return `${body}.c2lnbmF0dXJl`;
}

describe('<paywall-button>', () => {
  // Thrown errors count as uncaught here too; same-tab redirects are recorded, not followed.
  const kit = useKit({ token: TOKEN, prices: { [PRODUCT]: 49, [OTHER]: 99 }, catchErrors: true, recordNavigation: true });
  let backend: FakeBackend, popups: Popups, services: PaywallServices, navigated: string[];
  beforeEach(() => ({ backend, popups, services, navigated } = kit));

  const button = (template = html`<paywall-button product=${PRODUCT} price="49" currency="EUR"></paywall-button>`) => mountInConfig('paywall-button', template);

  describe('showing', () => {
    it('shows "Buy for" with the localized price, and is idle without asking anything while signed out', async () => {
      const el = await button();
      await until(() => el.state === 'idle', 3000, 'idle');
      expect(el.getAttribute('state')).to.equal('idle');
      expect(seen(el)).to.equal('Buy for €0.49');
      expect(inner(el).getAttribute('aria-busy')).to.equal('false');
      expect(backend.requests, 'nothing to ask while signed out').to.have.length(0);
      await expect(el).to.be.accessible();
    });

    it('shows a slotted label with the price beside it', async () => {
      const el = await button(html`<paywall-button product=${PRODUCT} price="49" currency="EUR">Read the article</paywall-button>`);
      await until(() => el.state === 'idle');
      expect(seen(el)).to.equal('Read the article €0.49');
      expect(el.shadowRoot!.querySelector('[part~="price"]')!.textContent).to.equal('€0.49');
      await expect(el).to.be.accessible();
    });

    it('shows a price in German with <paywall-config locale="de">, and switches language live', async () => {
      const wrapper = await fixture<HTMLElement>(html`<paywall-config backend=${BACKEND} locale="de"><paywall-button product=${PRODUCT} price="49" currency="EUR"></paywall-button></paywall-config>`);
      const el = wrapper.querySelector('paywall-button')!;
      await until(() => el.state === 'idle');
      expect(seen(el)).to.equal('Für 0,49 € kaufen');
      wrapper.setAttribute('locale', 'en');
      await until(() => seen(el) === 'Buy for €0.49', 3000, 'English');
    });

    it('follows the lang of the page when no locale is configured, also when it changes', async () => {
      const wrapper = await fixture<HTMLElement>(html`<div lang="de-AT"><paywall-config backend=${BACKEND}><paywall-button product=${PRODUCT} price="150" currency="JPY"></paywall-button></paywall-config></div>`);
      const el = wrapper.querySelector('paywall-button')!;
      await until(() => el.state === 'idle');
      expect(seen(el)).to.equal('Für 150 ¥ kaufen');
      wrapper.setAttribute('lang', 'en');
      await until(() => seen(el) === 'Buy for JP¥150', 3000, 'English after the page switched language');
    });

    it('shows how long access lasts when validity is set, in the page language', async () => {
      const el = await button(html`<paywall-button product=${PRODUCT} price="49" currency="EUR" validity="2592000">Read</paywall-button>`);
      await until(() => el.state === 'idle');
      expect(el.shadowRoot!.querySelector('[part~="validity"]')!.textContent).to.equal('30 days');
      el.setAttribute('lang', 'de');
      await until(() => el.shadowRoot!.querySelector('[part~="validity"]')?.textContent === '30 Tage', 3000, 'German validity');
      await expect(el).to.be.accessible();
    });

    it('says "Buy access" without a price', async () => {
      const el = await button(html`<paywall-button product=${PRODUCT}></paywall-button>`);
      await until(() => el.state === 'idle');
      expect(seen(el)).to.equal('Buy access');
    });

    it('is themable with --paywall-* custom properties and ::part(button)', async () => {
      const el = await button(html`<paywall-button product=${PRODUCT} style="--paywall-accent: rgb(1, 2, 3); --paywall-on-accent: rgb(250, 250, 250)"></paywall-button>`);
      await until(() => el.state === 'idle');
      const style = getComputedStyle(inner(el));
      expect(style.backgroundColor).to.equal('rgb(1, 2, 3)');
      expect(style.color).to.equal('rgb(250, 250, 250)');
      expect(inner(el).getAttribute('part')).to.equal('button button-idle');
    });

    it('shows a readable signed offer with its price', async () => {
      const offer = offerToken({ product: PRODUCT, title: 'Article', price: 79, currency: 'EUR', validity: 3600, expiresAt: 4_000_000_000 });
      const el = await button(html`<paywall-button offer=${offer}></paywall-button>`);
      await until(() => el.state === 'idle');
      expect(seen(el)).to.equal('Buy for €0.79');
    });
  });

  describe('attribute errors', () => {
    for (const [what, template] of [
      ['a malformed product', html`<paywall-button product="not a product!" price="49" currency="EUR"></paywall-button>`],
      ['no product and no offer', html`<paywall-button price="49" currency="EUR"></paywall-button>`],
      ['a price that is not integer minor units', html`<paywall-button product=${PRODUCT} price="0.49" currency="EUR"></paywall-button>`],
      ['a lower-case currency', html`<paywall-button product=${PRODUCT} price="49" currency="eur"></paywall-button>`],
      ['an unreadable offer', html`<paywall-button offer="garbage"></paywall-button>`],
      ['an unknown payment method', html`<paywall-button product=${PRODUCT} price="49" currency="EUR" method="bitcoin"></paywall-button>`],
    ] as const) {
      it(`shows a configuration error for ${what}, logs it once and fires paywall-error`, async () => {
        const console = captureConsoleErrors();
        const errors = listen<PaywallErrorEvent>(document, 'paywall-error');
        try {
          const el = await button(template);
          el.requestUpdate();
          await el.updateComplete;
          expect(el.state).to.equal('error');
          expect(seen(el)).to.equal('Paywall is not configured correctly.');
          expect(el.shadowRoot!.querySelector('[part~="error"]')!.getAttribute('role')).to.equal('alert');
          expect(console.calls, 'one console error').to.have.length(1);
          expect(errors.map((e) => e.code)).to.deep.equal(['configuration_error']);
          expect(backend.requests).to.have.length(0);
          await expect(el).to.be.accessible();
        } finally {
          console.restore();
        }
      });
    }

    it('recovers once the attribute is corrected', async () => {
      const console = captureConsoleErrors();
      try {
        const el = await button(html`<paywall-button product="bad product" price="49" currency="EUR"></paywall-button>`);
        expect(el.state).to.equal('error');
        el.product = PRODUCT;
        await until(() => el.state === 'idle', 3000, 'idle');
        expect(seen(el)).to.equal('Buy for €0.49');
      } finally {
        console.restore();
      }
    });
  });

  describe('access on load', () => {
    it('signed in with access: one access check, then hides itself and fires paywall-access', async () => {
      const expiresAt = new Date(Date.now() + 600_000).toISOString();
      backend.grants.set(PRODUCT, expiresAt);
      services.session.set(TOKEN);
      const access = listen<PaywallAccessEvent>(document, 'paywall-access');
      const el = await button();
      await until(() => el.state === 'granted', 3000, 'granted');
      expect(el.checkVisibility(), 'hidden').to.equal(false);
      expect(seen(el)).to.equal('');
      const [check, ...more] = backend.sent('/v1/access');
      expect(more).to.have.length(0);
      expect(check!.body).to.deep.equal({ products: [PRODUCT] });
      expect(check!.authorization).to.equal(`Bearer ${TOKEN}`);
      expect(access.map(({ product, expiresAt, source }) => ({ product, expiresAt, source }))).to.deep.equal([{ product: PRODUCT, expiresAt, source: 'check' }]);
      expect(backend.sent('/v1/purchases')).to.have.length(0);
    });

    it('waits unseen, in its reserved space, for a quick first answer, then shows itself as it is', async () => {
      services.session.set(TOKEN);
      worker.use(http.post(`${BACKEND}/v1/access`, async () => {
        await sleep(400);
        return HttpResponse.json({ access: [{ product: PRODUCT, granted: false, expiresAt: null }] });
      }));
      const el = await button();
      expect(el.state).to.equal('checking');
      expect(el.getAttribute('state')).to.equal('checking');
      expect(el.shadowRoot!.querySelector('button') === null, 'no button yet').to.equal(true);
      expect(el.getBoundingClientRect().height).to.be.greaterThan(30);
      await until(() => el.state === 'idle', 3000, 'idle');
      await el.updateComplete;
      expect(inner(el).getAttribute('aria-busy')).to.equal('false');
      expect(inner(el).getAttribute('part')).to.equal('button button-idle');
      expect(el.checkVisibility()).to.equal(true);
    });

    it(`shows itself busy once the first answer has taken ${FIRST_ANSWER_PATIENCE_MS} ms, then idle without access`, async () => {
      services.session.set(TOKEN);
      worker.use(http.post(`${BACKEND}/v1/access`, async () => {
        await sleep(FIRST_ANSWER_PATIENCE_MS + 1500);
        return HttpResponse.json({ access: [{ product: PRODUCT, granted: false, expiresAt: null }] });
      }));
      const el = await button();
      await until(() => el.shadowRoot!.querySelector('button') !== null, FIRST_ANSWER_PATIENCE_MS + 1200, 'the busy button');
      expect(el.state).to.equal('checking');
      expect(inner(el).getAttribute('aria-busy')).to.equal('true');
      expect(inner(el).getAttribute('part')).to.equal('button button-checking');
      expect(seen(el)).to.equal('Buy for €0.49');
      await until(() => el.state === 'idle', 3000, 'idle');
      await el.updateComplete;
      expect(inner(el).getAttribute('aria-busy')).to.equal('false');
    });

    it('with keep-visible stays visible and says "Purchased", even with a slotted label', async () => {
      backend.grants.set(PRODUCT, new Date(Date.now() + 600_000).toISOString());
      services.session.set(TOKEN);
      const el = await button(html`<paywall-button product=${PRODUCT} price="49" currency="EUR" keep-visible>Read the article</paywall-button>`);
      await until(() => el.state === 'granted', 3000, 'granted');
      expect(el.checkVisibility()).to.equal(true);
      expect(seen(el)).to.equal('Purchased');
      expect(inner(el).getAttribute('aria-disabled')).to.equal('true');
      inner(el).click();
      await sleep(50);
      expect(backend.sent('/v1/purchases'), 'a purchased button buys nothing').to.have.length(0);
      await expect(el).to.be.accessible();
    });

    it('shows itself again when access runs out', async () => {
      backend.grants.set(PRODUCT, new Date(Date.now() + 1500).toISOString());
      services.session.set(TOKEN);
      const el = await button();
      await until(() => el.state === 'granted', 3000, 'granted');
      await until(() => el.state === 'idle', 3000, 'idle again at expiry');
      expect(el.checkVisibility()).to.equal(true);
      expect(seen(el)).to.equal('Buy for €0.49');
    });

    it('hides itself when access arrives as a notification', async () => {
      const expiresAt = new Date(Date.now() + 600_000).toISOString();
      worker.use(notificationsLink.addEventListener('connection', ({ client }) => {
        setTimeout(() => client.send(JSON.stringify({ id: 1, type: 'access.granted', createdAt: new Date().toISOString(), resource: { product: PRODUCT, expiresAt } })), 100);
      }));
      services.session.set(TOKEN);
      const access = listen<PaywallAccessEvent>(document, 'paywall-access');
      const el = await button();
      await until(() => access.length > 0, 3000, 'paywall-access');
      expect(access.map(({ product, expiresAt, source }) => ({ product, expiresAt, source }))).to.deep.equal([{ product: PRODUCT, expiresAt, source: 'notification' }]);
      expect(el.state).to.equal('granted');
    });
  });

  describe('buying', () => {
    it('buys in one click from the wallet: busy while working, then announces access and hides', async () => {
      services.session.set(TOKEN);
      const el = await button();
      await until(() => el.state === 'idle');
      const accessEvent = oneEvent<PaywallAccessEvent>(el, 'paywall-access');
      inner(el).click();
      await el.updateComplete;
      expect(el.state).to.equal('working');
      expect(inner(el).getAttribute('aria-busy')).to.equal('true');
      expect(status(el)).to.equal('Processing purchase…');
      const event = await accessEvent;
      expect(event.bubbles && event.composed).to.equal(true);
      expect(event).to.include({ product: PRODUCT, source: 'purchase' });
      expect(Date.parse(event.expiresAt!)).to.be.greaterThan(Date.now());
      await until(() => status(el) === 'Access granted.', 3000, 'the announcement');
      expect(el.state).to.equal('granted');
      expect(el.checkVisibility()).to.equal(false);
      // The live region stays rendered (visually hidden) so that the announcement is heard.
      expect(el.shadowRoot!.querySelector('[role="status"]')!.checkVisibility(), 'live region rendered').to.equal(true);
      const [purchase, ...more] = backend.sent('/v1/purchases');
      expect(more).to.have.length(0);
      expect(purchase!.body).to.include({ product: PRODUCT, price: 49, currency: 'EUR' });
      expect(purchase!.authorization).to.equal(`Bearer ${TOKEN}`);
      expect(popups.calls, 'no window needed').to.equal(0);
      expect(backend.balance).to.equal(451);
    });

    it('signed out: opens sign-up inside the click, and the purchase continues by itself after it', async () => {
      const el = await button();
      await until(() => el.state === 'idle');
      const windows = listen<PaywallWindowEvent>(el, 'paywall-window');
      inner(el).click();
      expect(popups.calls, 'opened inside the click').to.equal(1);
      const { win, url } = await popups.at('/hosted/sign-up');
      expect(url.searchParams.get('origin')).to.equal(location.origin);
      expect(el.state).to.equal('window-open');
      expect(inner(el).getAttribute('aria-busy')).to.equal('true');
      expect(status(el)).to.equal('Sign in or create an account in the window that opened.');
      expect(backend.requests, 'nothing sent before the sign-up').to.have.length(0);

      postFromPopup(win, { source: 'paywall-kit', type: 'signed-up', token: TOKEN });
      await until(() => el.state === 'granted', 3000, 'granted');
      expect(services.session.token).to.equal(TOKEN);
      const purchases = backend.sent('/v1/purchases');
      expect(purchases).to.have.length(1);
      expect(purchases[0]!.authorization).to.equal(`Bearer ${TOKEN}`);
      expect(windows.map((e) => ({ state: e.state, product: e.product }))).to.deep.equal([
        { state: 'opened', product: PRODUCT },
        { state: 'completed', product: PRODUCT },
      ]);
      await until(() => win.closed, 3000, 'the window to close');
    });

    it('while the window is open, shows where to finish and brings a window lost behind the page back to the front', async () => {
      const el = await button();
      await until(() => el.state === 'idle');
      inner(el).click();
      const { win } = await popups.at('/hosted/sign-up');
      let focused = 0;
      win.focus = () => void focused++;
      await el.updateComplete;
      expect(seen(el)).to.equal('Buy for €0.49 Sign in or create an account in the window that opened. Show the window');
      const show = el.shadowRoot!.querySelector<HTMLButtonElement>('[part="show-window"]')!;
      show.click();
      expect(focused, 'the control').to.equal(1);
      inner(el).click();
      expect(focused, 'the busy buy button').to.equal(2);
      expect(popups.calls, 'no second window').to.equal(1);
      await expect(el).to.be.accessible();

      win.close();
      await until(() => el.state === 'idle', 3000, 'idle after the window was closed');
      expect(el.shadowRoot!.querySelector('[part="show-window"]'), 'no control without a window').to.equal(null);
      inner(el).click();
      expect(popups.calls, 'a click opens the window again').to.equal(2);
      (await popups.at('/hosted/sign-up')).win.close();
      await until(() => el.state === 'idle', 3000, 'idle again');
    });

    it('insufficient funds: opens the top-up window, then the purchase continues with the same key', async () => {
      services.session.set(TOKEN);
      backend.balance = 10;
      const el = await button();
      await until(() => el.state === 'idle');
      inner(el).click();
      const { win, url } = await popups.at('/hosted/top-up');
      expect(url.searchParams.get('amount')).to.equal('39');
      expect(el.state).to.equal('window-open');
      expect(status(el)).to.equal('Top up your wallet in the window that opened.');
      backend.balance = 1010;
      postFromPopup(win, { source: 'paywall-kit', type: 'topped-up' });
      await until(() => el.state === 'granted', 3000, 'granted');
      const [first, second, ...more] = backend.sent('/v1/purchases');
      expect(more).to.have.length(0);
      expect(second!.body.idempotencyKey).to.equal(first!.body.idempotencyKey);
      expect(backend.balance).to.equal(961);
    });

    it('a balance known to be too low: the top-up window opens inside the click', async () => {
      services.session.set(TOKEN);
      backend.prices.set('pb-expensive', 900);
      const wrapper = await fixture<HTMLElement>(html`<paywall-config backend=${BACKEND}>
        <wallet-balance></wallet-balance><paywall-button product="pb-expensive" price="900" currency="EUR"></paywall-button>
      </paywall-config>`);
      const el = wrapper.querySelector('paywall-button')!;
      await until(() => el.state === 'idle' && services.wallet.wallet?.balance === 500, 3000, 'the balance known');
      inner(el).click();
      expect(popups.calls, 'opened inside the click').to.equal(1);
      const { win, url } = await popups.at('/hosted/top-up');
      expect(url.searchParams.get('amount')).to.equal('400');
      expect(backend.sent('/v1/purchases'), 'nothing bought before the top-up').to.have.length(0);
      backend.balance = 1500;
      postFromPopup(win, { source: 'paywall-kit', type: 'topped-up' });
      await until(() => el.state === 'granted', 3000, 'granted');
      expect(backend.balance).to.equal(600);
    });

    it('a window closed by hand: back to idle, "nothing was charged", nothing bought', async () => {
      const el = await button();
      await until(() => el.state === 'idle');
      const windows = listen<PaywallWindowEvent>(el, 'paywall-window');
      inner(el).click();
      const { win } = await popups.at('/hosted/sign-up');
      win.close();
      await until(() => el.state === 'idle', 3000, 'idle');
      expect(status(el)).to.equal('The window was closed. Nothing was charged.');
      expect(seen(el)).to.equal('Buy for €0.49');
      expect(windows.map((e) => e.state)).to.deep.equal(['opened', 'closed']);
      expect(backend.requests).to.have.length(0);
    });

    it('ignores a forged message from another window or another origin', async () => {
      const el = await button();
      await until(() => el.state === 'idle');
      inner(el).click();
      const { win } = await popups.at('/hosted/sign-up');
      const forged = { source: 'paywall-kit', type: 'signed-up', token: 'forged-token' };
      window.postMessage(forged, location.origin); // the right origin, but not the window it opened
      const frame = document.createElement('iframe');
      document.body.append(frame);
      postFromPopup(frame.contentWindow!, forged, location.origin, 'parent');
      frame.remove();
      await postFromOtherOrigin(forged); // another origin
      await sleep(100);
      expect(el.state).to.equal('window-open');
      expect(services.session.token).to.equal(null);
      expect(backend.requests).to.have.length(0);

      postFromPopup(win, { source: 'paywall-kit', type: 'signed-up', token: TOKEN });
      await until(() => el.state === 'granted', 3000, 'granted');
      expect(backend.sent('/v1/purchases')[0]!.authorization).to.equal(`Bearer ${TOKEN}`);
    });

    it('a double click buys once', async () => {
      services.session.set(TOKEN);
      const el = await button();
      await until(() => el.state === 'idle');
      inner(el).click();
      inner(el).click();
      inner(el).dispatchEvent(new MouseEvent('dblclick', { bubbles: true, composed: true }));
      await until(() => el.state === 'granted', 3000, 'granted');
      await sleep(50);
      expect(backend.sent('/v1/purchases')).to.have.length(1);
      expect(backend.balance).to.equal(451);
    });

    it('two buttons for one product never run two purchases', async () => {
      services.session.set(TOKEN);
      const wrapper = await fixture<HTMLElement>(html`<paywall-config backend=${BACKEND}>
        <paywall-button id="top" product=${PRODUCT}></paywall-button>
        <paywall-button id="bottom" product=${PRODUCT}></paywall-button>
      </paywall-config>`);
      const [top, bottom] = [...wrapper.querySelectorAll('paywall-button')] as [PaywallButtonElement, PaywallButtonElement];
      await until(() => top.state === 'idle' && bottom.state === 'idle');
      inner(top).click();
      inner(bottom).click();
      await until(() => top.state === 'granted' && bottom.state === 'granted', 3000, 'both granted');
      expect(backend.sent('/v1/purchases')).to.have.length(1);
      expect(backend.sent('/v1/access'), 'one check for both').to.have.length(1);
    });

    it('buys a signed offer by sending the offer', async () => {
      const offer = offerToken({ product: OTHER, title: 'Other', price: 79, currency: 'EUR', validity: 3600, expiresAt: 4_000_000_000 });
      const bodies: unknown[] = [];
      worker.use(http.post(`${BACKEND}/v1/purchases`, async ({ request }) => {
        bodies.push(await request.json());
        return HttpResponse.json({ status: 'granted', entitlement: { product: OTHER, expiresAt: new Date(Date.now() + 600_000).toISOString() }, wallet: { balance: 421, currency: 'EUR' } });
      }));
      services.session.set(TOKEN);
      const el = await button(html`<paywall-button offer=${offer}></paywall-button>`);
      await until(() => el.state === 'idle');
      inner(el).click();
      await until(() => el.state === 'granted', 3000, 'granted');
      expect(bodies).to.have.length(1);
      expect(bodies[0]).to.include({ offer, price: 79, currency: 'EUR' });
      expect(bodies[0]).not.to.have.property('product');
    });

    it('a blocked popup fires paywall-window "blocked" and continues in this tab, without an error', async () => {
      popups.blocked = true;
      const el = await button();
      await until(() => el.state === 'idle');
      const windows = listen<PaywallWindowEvent>(el, 'paywall-window');
      const errors = listen<PaywallErrorEvent>(el, 'paywall-error');
      inner(el).click();
      await until(() => navigated.length === 1, 3000, 'the redirect');
      const target = new URL(navigated[0]!);
      expect(target.pathname).to.equal('/hosted/sign-up');
      expect(target.searchParams.get('return')).to.equal(location.href.replace(/#.*$/, ''));
      await el.updateComplete;
      expect(windows.map((e) => e.state)).to.deep.equal(['blocked']);
      expect(errors.map((e) => e.code)).to.deep.equal([]);
      expect(el.state).to.equal('working');
      expect(status(el)).to.equal('Opening the payment page…');
      sessionStorage.removeItem(`paywall-kit:pending:${BACKEND}`);
    });
  });

  describe('method="card"', () => {
    let payments: FakePayments;
    beforeEach(() => (payments = new FakePayments(backend)));

    const cardButton = () => button(html`<paywall-button product=${PRODUCT} price="49" currency="EUR" method="card"></paywall-button>`);
    const confirms = () => backend.requests.filter((r) => r.method === 'POST' && /^\/v1\/payment-intents\/[^/]+\/confirm$/.test(r.path));

    it('reflects the method and stays a "Buy for" button', async () => {
      const el = await cardButton();
      await until(() => el.state === 'idle');
      expect(el.getAttribute('method')).to.equal('card');
      expect(seen(el)).to.equal('Buy for €0.49');
    });

    it('without 3-D Secure: the checkout window opens inside the click, "payment-succeeded" grants access; one POST /v1/payments with a key', async () => {
      services.session.set(TOKEN);
      const el = await cardButton();
      await until(() => el.state === 'idle');
      const windows = listen<PaywallWindowEvent>(el, 'paywall-window');
      const access = oneEvent<PaywallAccessEvent>(el, 'paywall-access');
      inner(el).click();
      expect(popups.calls, 'opened inside the click').to.equal(1);
      const { win, url } = await popups.at('/hosted/checkout');
      expect(url.searchParams.get('checkout')).to.equal('co_1');
      await until(() => el.state === 'window-open', 3000, 'window-open');
      expect(status(el)).to.equal('Enter your card in the window that opened.');
      expect(inner(el).getAttribute('aria-busy')).to.equal('true');
      await expect(el).to.be.accessible();

      const [payment, ...more] = backend.sent('/v1/payments', 'POST');
      expect(more).to.have.length(0);
      expect(payment!.body).to.include({ product: PRODUCT, price: 49, currency: 'EUR' });
      expect(payment!.body.idempotencyKey).to.match(/^[A-Za-z0-9_-]{16,128}$/);
      expect(payment!.authorization).to.equal(`Bearer ${TOKEN}`);
      expect(backend.sent('/v1/purchases'), 'not from the wallet').to.have.length(0);

      backend.grants.set(PRODUCT, new Date(Date.now() + 600_000).toISOString());
      postFromPopup(win, { source: 'paywall-kit', type: 'payment-succeeded', product: PRODUCT });
      expect(await access).to.include({ product: PRODUCT, source: 'purchase' });
      await until(() => el.state === 'granted' && status(el) === 'Access granted.', 3000, 'granted');
      expect(backend.sent('/v1/payments', 'POST')).to.have.length(1);
      expect(confirms()).to.have.length(0);
      expect(windows.map((e) => e.state)).to.deep.equal(['opened', 'completed']);
      await until(() => win.closed, 3000, 'the window to close');
      expect(popups.calls).to.equal(1);
      expect(backend.balance, 'the wallet is not touched').to.equal(500);
      await expect(el).to.be.accessible();
    });

    it('with 3-D Secure: the bank page in the same window, "payment-intent" is confirmed exactly once, access granted', async () => {
      services.session.set(TOKEN);
      payments.intents.set('pi_card', intent({ id: 'pi_card', status: 'requires_confirmation', product: PRODUCT, redirectToUrl: `${BACKEND}/hosted/3ds?intent=pi_card&sig=s` }));
      const el = await cardButton();
      await until(() => el.state === 'idle');
      inner(el).click();
      const checkout = await popups.at('/hosted/checkout');
      // The checkout page goes on to the bank's 3-D Secure page in the same window.
      checkout.win.location.href = `${BACKEND}/hosted/3ds?intent=pi_card&sig=s`;
      const bank = await popups.at('/hosted/3ds');
      expect(bank.win).to.equal(checkout.win);
      expect(popups.calls, 'one window').to.equal(1);
      expect(el.state).to.equal('window-open');
      await expect(el).to.be.accessible();

      postFromPopup(bank.win, { source: 'paywall-kit', type: 'payment-intent', paymentIntent: 'pi_card', product: PRODUCT });
      await until(() => el.state === 'granted', 3000, 'granted');
      await sleep(50);
      const sent = confirms();
      expect(sent).to.have.length(1);
      expect(sent[0]!.path).to.equal('/v1/payment-intents/pi_card/confirm');
      expect(backend.sent('/v1/payments', 'POST')).to.have.length(1);
      expect(services.entitlements.get(PRODUCT)!.granted).to.equal(true);
      await until(() => bank.win.closed, 3000, 'the window to close');
    });

    it('signed out: sign-up, then the checkout in the same window', async () => {
      const el = await cardButton();
      await until(() => el.state === 'idle');
      const windows = listen<PaywallWindowEvent>(el, 'paywall-window');
      inner(el).click();
      expect(popups.calls, 'opened inside the click').to.equal(1);
      const signUp = await popups.at('/hosted/sign-up');
      expect(status(el)).to.equal('Sign in or create an account in the window that opened.');
      expect(backend.requests, 'nothing sent before the sign-up').to.have.length(0);
      postFromPopup(signUp.win, { source: 'paywall-kit', type: 'signed-up', token: TOKEN });

      const checkout = await popups.at('/hosted/checkout');
      expect(checkout.win, 'the same window, navigated').to.equal(signUp.win);
      expect(popups.calls, 'no second window').to.equal(1);
      await until(() => status(el) === 'Enter your card in the window that opened.', 3000, 'paying status');
      expect(backend.sent('/v1/payments', 'POST')[0]!.authorization).to.equal(`Bearer ${TOKEN}`);
      backend.grants.set(PRODUCT, new Date(Date.now() + 600_000).toISOString());
      postFromPopup(checkout.win, { source: 'paywall-kit', type: 'payment-succeeded', product: PRODUCT });
      await until(() => el.state === 'granted', 3000, 'granted');
      expect(windows.map((e) => e.state)).to.deep.equal(['opened', 'completed', 'opened', 'completed']);
      await until(() => checkout.win.closed, 3000, 'the window to close');
    });

    it('the checkout window closed by hand: back to idle, "nothing was charged", nothing confirmed or granted', async () => {
      services.session.set(TOKEN);
      const el = await cardButton();
      await until(() => el.state === 'idle');
      const windows = listen<PaywallWindowEvent>(el, 'paywall-window');
      const errors = listen<PaywallErrorEvent>(el, 'paywall-error');
      inner(el).click();
      const { win } = await popups.at('/hosted/checkout');
      win.close();
      await until(() => el.state === 'idle', 3000, 'idle');
      expect(status(el)).to.equal('The window was closed. Nothing was charged.');
      expect(seen(el)).to.equal('Buy for €0.49');
      expect(windows.map((e) => e.state)).to.deep.equal(['opened', 'closed']);
      expect(errors.map((e) => e.code)).to.deep.equal(['popup_closed']);
      expect(confirms()).to.have.length(0);
      expect(backend.grants.has(PRODUCT)).to.equal(false);
      expect(services.entitlements.get(PRODUCT)?.granted ?? false).to.equal(false);
      expect(backend.balance).to.equal(500);
      await expect(el).to.be.accessible();
    });

    it('a declined card: the error state, nothing granted', async () => {
      services.session.set(TOKEN);
      const el = await cardButton();
      await until(() => el.state === 'idle');
      inner(el).click();
      const { win } = await popups.at('/hosted/checkout');
      postFromPopup(win, { source: 'paywall-kit', type: 'payment-failed', code: 'card_declined', message: 'Declined' });
      await until(() => el.state === 'error', 3000, 'error');
      expect(services.entitlements.get(PRODUCT)?.granted ?? false).to.equal(false);
      await until(() => win.closed, 3000, 'the window to close');
      await expect(el).to.be.accessible();
    });
  });

  describe('errors', () => {
    it('a price that disagrees with the server: an error instead of a charge', async () => {
      services.session.set(TOKEN);
      const el = await button(html`<paywall-button product=${PRODUCT} price="10" currency="EUR"></paywall-button>`);
      await until(() => el.state === 'idle');
      const error = oneEvent<PaywallErrorEvent>(el, 'paywall-error');
      inner(el).click();
      expect(await error).to.include({ code: 'price_mismatch', product: PRODUCT });
      await el.updateComplete;
      expect(el.state).to.equal('error');
      expect(seen(el)).to.equal('Try again The price has changed. Reload the page to see the current price.');
      expect(status(el)).to.equal('The price has changed. Reload the page to see the current price.');
      expect(inner(el).getAttribute('part')).to.equal('button button-error');
      expect(backend.balance).to.equal(500);
      await expect(el).to.be.accessible();
    });

    it('a malformed access answer ends in the error state, not an exception', async () => {
      services.session.set(TOKEN);
      worker.use(http.post(`${BACKEND}/v1/access`, () => HttpResponse.json({ access: 'yes please' })));
      const errors = listen<PaywallErrorEvent>(document, 'paywall-error');
      const el = await button();
      await until(() => el.state === 'error', 3000, 'error');
      expect(errors.map((e) => e.code)).to.deep.equal(['invalid_response']);
      expect(seen(el)).to.equal('Try again The payment service answered unexpectedly. Try again later.');
    });

    it('a malformed purchase answer ends in the error state; a retry then succeeds', async () => {
      services.session.set(TOKEN);
      let broken = true;
      worker.use(http.post(`${BACKEND}/v1/purchases`, () => (broken ? HttpResponse.text('<html>oops</html>', { status: 200 }) : undefined)));
      const el = await button();
      await until(() => el.state === 'idle');
      inner(el).click();
      await until(() => el.state === 'error', 3000, 'error');
      expect(seen(el)).to.contain('The payment service answered unexpectedly.');
      broken = false;
      inner(el).click();
      await until(() => el.state === 'granted', 3000, 'granted on retry');
    });

    it('lost network: an error state and paywall-error network_error', async () => {
      services.session.set(TOKEN);
      worker.use(http.post(`${BACKEND}/v1/purchases`, () => HttpResponse.error()));
      const el = await button();
      await until(() => el.state === 'idle');
      const error = oneEvent<PaywallErrorEvent>(el, 'paywall-error');
      inner(el).click();
      expect((await error).code).to.equal('network_error');
      await until(() => el.state === 'error');
      expect(seen(el)).to.contain('The connection failed.');
    });
  });

  it('fires typed events that leave a shadow root and reach the document', async () => {
    services.session.set(TOKEN);
    const host = await fixture<HTMLElement>(html`<div></div>`);
    host.attachShadow({ mode: 'open' }).innerHTML = `<paywall-button backend="${BACKEND}" product="${PRODUCT}" price="1" currency="EUR"></paywall-button>`;
    const el = host.shadowRoot!.querySelector('paywall-button')!;
    await until(() => el.state === 'idle', 3000, 'idle');
    const failed = oneEvent<PaywallErrorEvent>(document, 'paywall-error');
    inner(el).click();
    const error = await failed;
    expect(error).to.be.instanceOf(PaywallErrorEvent);
    expect(error.code).to.equal('price_mismatch');
    expect(error.target === host, 'retargeted to the shadow host').to.equal(true);

    el.setAttribute('price', '49');
    await until(() => el.state === 'idle', 3000, 'the error gone with the corrected price');
    const granted = oneEvent<PaywallAccessEvent>(document, 'paywall-access');
    inner(el).click();
    expect(await granted).to.be.instanceOf(PaywallAccessEvent);
  });

  describe('keyboard', () => {
    it('is reached with Tab and buys with Enter', async () => {
      services.session.set(TOKEN);
      const wrapper = await fixture<HTMLElement>(html`<paywall-config backend=${BACKEND}><input aria-label="before" /><paywall-button product=${PRODUCT}></paywall-button></paywall-config>`);
      const el = wrapper.querySelector('paywall-button')!;
      await until(() => el.state === 'idle');
      wrapper.querySelector('input')!.focus();
      await sendKeys({ press: 'Tab' });
      // Elements are compared as booleans: a failed comparison of two elements hangs the runner.
      expect(document.activeElement === el && el.shadowRoot!.activeElement === inner(el), 'focus on the button').to.equal(true);
      await sendKeys({ press: 'Enter' });
      await until(() => el.state === 'granted', 3000, 'granted');
      expect(backend.sent('/v1/purchases')).to.have.length(1);
    });

    it('after a keyboard purchase, focus moves to the content that opened instead of falling to the page', async () => {
      services.session.set(TOKEN);
      const wrapper = await fixture<HTMLElement>(html`<paywall-config backend=${BACKEND}><paywall-button product=${PRODUCT}></paywall-button><paywall-content product=${PRODUCT}><p slot="teaser">Teaser</p></paywall-content></paywall-config>`);
      const el = wrapper.querySelector('paywall-button')!;
      await until(() => el.state === 'idle');
      el.focus();
      await sendKeys({ press: 'Enter' });
      await until(() => el.state === 'granted', 3000, 'granted');
      expect(document.activeElement === wrapper.querySelector('paywall-content'), 'focus on the content').to.equal(true);
    });

    it('buys with Space, and focus() on the element focuses its button', async () => {
      services.session.set(TOKEN);
      const el = await button(html`<paywall-button product=${OTHER}></paywall-button>`);
      await until(() => el.state === 'idle');
      el.focus();
      expect(el.shadowRoot!.activeElement === inner(el), 'focus on the button').to.equal(true);
      await sendKeys({ press: 'Space' });
      await until(() => el.state === 'granted', 3000, 'granted');
      expect(backend.sent('/v1/purchases')[0]!.body.product).to.equal(OTHER);
    });

    it('opens the sign-up window from the keyboard', async () => {
      const el = await button();
      await until(() => el.state === 'idle');
      inner(el).focus();
      await sendKeys({ press: 'Enter' });
      const { win } = await popups.at('/hosted/sign-up');
      postFromPopup(win, { source: 'paywall-kit', type: 'signed-up', token: TOKEN });
      await until(() => el.state === 'granted', 3000, 'granted');
    });
  });

  it('loses access on sign-out and becomes a buy button again', async () => {
    backend.grants.set(PRODUCT, new Date(Date.now() + 600_000).toISOString());
    services.session.set(TOKEN);
    const el = await button();
    await until(() => el.state === 'granted');
    await services.signOut();
    await until(() => el.state === 'idle', 3000, 'idle');
    expect(seen(el)).to.equal('Buy for €0.49');
  });
});
