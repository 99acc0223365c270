import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { http, HttpResponse } from 'msw';
import { BackendError, Product, paywall, type PaywallAccessEvent, type PaywallErrorEvent, type PaywallWindowEvent } from '../../../src/index';
import type { PaywallButtonElement } from '../../../src/components/paywall-button';
import type { PaywallContentElement } from '../../../src/components/paywall-content';
import { PaywallServices } from '../../../src/services/paywall-services';
import { BACKEND, type FakeBackend, sleep, until, worker } from '../helpers/mock-backend';
import { hours, listen, useKit } from '../helpers/kit-fixture';
import { type Popups, postFromPopup } from '../helpers/popups';

// Own token and product ids: test files run in parallel pages that share Web Locks and BroadcastChannels.
const TOKEN = 'api-token';
const A = 'api-a';
const B = 'api-b';
const C = 'api-c';

async function rejection(promise: Promise<unknown>): Promise<BackendError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).to.be.instanceOf(BackendError);
  return error as BackendError;
}

/** Events a Product emits, as `type` or `type:code`. */
function productLog(product: Product): string[] {
  const log: string[] = [];
  for (const type of ['start', 'userAbort', 'error', 'accessAuthorization'] as const) {
    product.on(type, (event) => log.push(type === 'error' ? `error:${event.detail.code}` : type));
  }
  return log;
}

describe('JS API and data-paywall-* triggers', () => {
  // The services are used by the API, the triggers and the elements alike.
  const kit = useKit({ token: TOKEN, prices: { [A]: 49, [B]: 49, [C]: 49 } });
  let backend: FakeBackend, popups: Popups, services: PaywallServices;
  beforeEach(() => ({ backend, popups, services } = kit));

  // First, while nothing names a backend (no meta tag, no <paywall-config>, paywall.configure() not called yet).
  describe('without a backend', () => {
    it('rejects every call with configuration_error instead of throwing', async () => {
      const errors = listen<PaywallErrorEvent>(document, 'paywall-error');
      let calls: Promise<unknown>[] = [];
      expect(() => (calls = [paywall.purchase({ product: A }), paywall.checkAccess([A]), paywall.signIn(), paywall.signOut()])).not.to.throw();
      for (const call of calls) expect((await rejection(call)).code).to.equal('configuration_error');
      expect(errors.map(({ code, product }) => ({ code, product }))).to.deep.equal([{ code: 'configuration_error', product: A }]);
      expect(popups.calls).to.equal(0);
    });

    it('a Product reports error instead of throwing; tryAccessOnLoad resolves false', async () => {
      const product = new Product({ product: A });
      const log = productLog(product);
      expect(await product.startPayment()).to.equal(false);
      expect(await product.tryAccessOnLoad()).to.equal(false);
      expect(log).to.deep.equal(['start', 'error:configuration_error', 'error:configuration_error']);
    });

    it('a lone <paywall-config> names the backend for the API, with its storage', async () => {
      const origin = 'https://config.pw-api.test';
      worker.use(http.delete(`${origin}/v1/sessions/current`, () => new HttpResponse(null, { status: 204 })));
      await fixture(html`<paywall-config backend=${origin} storage="memory"></paywall-config>`);
      await paywall.signOut();
      const created = PaywallServices.for(origin);
      expect(created.session.storage).to.equal('memory');
      created.dispose();
    });

    it('a trigger is marked as an error, logged, and its click fires paywall-error', async () => {
      const original = console.error;
      const logged: unknown[][] = [];
      console.error = (...args: unknown[]) => void logged.push(args);
      try {
        const el = await fixture<HTMLButtonElement>(html`<button data-paywall-product=${A}>Buy</button>`);
        await until(() => el.dataset.paywallState === 'error', 3000, 'error');
        expect(logged).to.have.length(1);
        const error = oneEvent<PaywallErrorEvent>(el, 'paywall-error');
        el.click();
        expect((await error).code).to.equal('configuration_error');
      } finally {
        console.error = original;
      }
    });
  });

  describe('with <meta name="paywall-backend">', () => {
    let meta: HTMLMetaElement;
    before(() => {
      meta = document.createElement('meta');
      meta.name = 'paywall-backend';
      meta.content = BACKEND;
      document.head.append(meta);
    });
    after(() => meta.remove());

    describe('paywall', () => {
      it('checkAccess asks once for all products', async () => {
        backend.grants.set(A, hours(1));
        services.session.set(TOKEN);
        const access = await paywall.checkAccess([A, B, C]);
        expect(access.map(({ product, granted }) => ({ product, granted }))).to.deep.equal([
          { product: A, granted: true },
          { product: B, granted: false },
          { product: C, granted: false },
        ]);
        const checks = backend.sent('/v1/access');
        expect(checks).to.have.length(1);
        expect(checks[0]!.body).to.deep.equal({ products: [A, B, C] });
      });

      it('purchase buys, and paywall.on hears paywall-access until it stops listening', async () => {
        services.session.set(TOKEN);
        const heard: PaywallAccessEvent[] = [];
        const stop = paywall.on('paywall-access', (event) => heard.push(event));
        const access = await paywall.purchase({ product: A, price: 49, currency: 'EUR' });
        expect(access).to.include({ product: A, granted: true });
        expect(backend.sent('/v1/purchases')[0]!.body).to.include({ product: A, price: 49, currency: 'EUR' });
        expect(heard.map(({ product, source }) => ({ product, source }))).to.deep.equal([{ product: A, source: 'purchase' }]);
        stop();
        await paywall.purchase({ product: B });
        expect(heard).to.have.length(1);
      });

      it('purchase signed out: sign-up window, then the purchase; paywall-window events on the document', async () => {
        const windows = listen<PaywallWindowEvent>(document, 'paywall-window');
        const purchase = paywall.purchase({ product: A });
        expect(popups.calls).to.equal(1);
        const { win } = await popups.at('/hosted/sign-up');
        postFromPopup(win, { source: 'paywall-kit', type: 'signed-up', token: TOKEN });
        expect((await purchase).granted).to.equal(true);
        expect(windows.map(({ state, product }) => ({ state, product }))).to.deep.equal([
          { state: 'opened', product: A },
          { state: 'completed', product: A },
        ]);
      });

      it('purchase failures reject with the code and fire paywall-error', async () => {
        services.session.set(TOKEN);
        const error = oneEvent<PaywallErrorEvent>(document, 'paywall-error');
        expect((await rejection(paywall.purchase({ product: A, price: 1 }))).code).to.equal('price_mismatch');
        expect(await error).to.include({ code: 'price_mismatch', product: A });
        expect((await rejection(paywall.purchase({ product: 'not valid!' }))).code).to.equal('configuration_error');
      });

      it('signIn accepts only its own window, and signOut re-locks the page', async () => {
        backend.grants.set(A, hours(1));
        const button = await fixture<PaywallButtonElement>(html`<paywall-button product=${A}></paywall-button>`);
        await until(() => button.state === 'idle');
        const signingIn = paywall.signIn('sign-in');
        const { win } = await popups.at('/hosted/sign-in');
        window.postMessage({ source: 'paywall-kit', type: 'signed-in', token: 'forged' }, location.origin);
        await sleep(100);
        expect(services.session.signedIn).to.equal(false);
        postFromPopup(win, { source: 'paywall-kit', type: 'signed-in', token: TOKEN });
        await signingIn;
        expect(services.session.token).to.equal(TOKEN);
        await until(() => button.state === 'granted', 3000, 'the button granted after sign-in');

        await paywall.signOut();
        expect(backend.sent('/v1/sessions/current', 'DELETE')).to.have.length(1);
        await until(() => button.state === 'idle', 3000, 'the button back');
      });
    });

    describe('data-paywall-product triggers', () => {
      it('any element with data-paywall-product buys on click, then hides itself', async () => {
        services.session.set(TOKEN);
        const el = await fixture<HTMLButtonElement>(html`<button data-paywall-product=${A} data-paywall-price="49" data-paywall-currency="EUR">Buy</button>`);
        await until(() => el.dataset.paywallState === 'idle', 3000, 'idle');
        const access = oneEvent<PaywallAccessEvent>(document, 'paywall-access');
        el.click();
        expect(el.dataset.paywallState).to.equal('working');
        expect(el.getAttribute('aria-busy')).to.equal('true');
        const event = await access;
        expect(event.target === el, 'fired on the trigger').to.equal(true);
        expect(event).to.include({ product: A, source: 'purchase' });
        expect(el.dataset.paywallState).to.equal('granted');
        expect(el.hidden).to.equal(true);
        expect(backend.sent('/v1/purchases')[0]!.body).to.include({ product: A, price: 49, currency: 'EUR' });
      });

      it('works for triggers added later, and a link does not navigate', async () => {
        services.session.set(TOKEN);
        const wrapper = await fixture<HTMLElement>(html`<div></div>`);
        await sleep(20);
        wrapper.innerHTML = `<p>Read on: <a href="#bought" data-paywall-product="${B}" data-paywall-keep-visible>buy</a></p>`;
        const link = wrapper.querySelector('a')!;
        await until(() => link.dataset.paywallState === 'idle', 3000, 'idle');
        link.click();
        await until(() => link.dataset.paywallState === 'granted', 3000, 'granted');
        expect(location.hash).to.equal('');
        expect(link.hidden, 'keep-visible').to.equal(false);
      });

      it('data-paywall-offer buys the signed offer', async () => {
        const payload = { product: C, title: 'C', price: 79, currency: 'EUR', validity: 3600, expiresAt: 4_000_000_000 };
        const offer = `${btoa(JSON.stringify(payload)).replace(/=+$/, '')}.c2ln`;
        const bodies: unknown[] = [];
        worker.use(http.post(`${BACKEND}/v1/purchases`, async ({ request }) => {
          bodies.push(await request.json());
          return HttpResponse.json({ status: 'granted', entitlement: { product: C, expiresAt: hours(1) }, wallet: { balance: 421, currency: 'EUR' } });
        }));
        services.session.set(TOKEN);
        const el = await fixture<HTMLButtonElement>(html`<button data-paywall-product=${C} data-paywall-offer=${offer}>Buy</button>`);
        await until(() => el.dataset.paywallState === 'idle');
        el.click();
        await until(() => el.dataset.paywallState === 'granted', 3000, 'granted');
        expect(bodies).to.have.length(1);
        expect(bodies[0]).to.include({ offer });
        expect(bodies[0]).not.to.have.property('product');
      });

      it('signed out: the sign-up window opens inside the click and the purchase continues', async () => {
        const el = await fixture<HTMLButtonElement>(html`<button data-paywall-product=${A}>Buy</button>`);
        await until(() => el.dataset.paywallState === 'idle');
        const windows = listen<PaywallWindowEvent>(el, 'paywall-window');
        el.click();
        expect(popups.calls).to.equal(1);
        const { win } = await popups.at('/hosted/sign-up');
        expect(el.dataset.paywallState).to.equal('window-open');
        postFromPopup(win, { source: 'paywall-kit', type: 'signed-up', token: TOKEN });
        await until(() => el.dataset.paywallState === 'granted', 3000, 'granted');
        expect(windows.map((e) => e.state)).to.deep.equal(['opened', 'completed']);
      });

      it('a double click buys once', async () => {
        services.session.set(TOKEN);
        const el = await fixture<HTMLButtonElement>(html`<button data-paywall-product=${A}>Buy</button>`);
        await until(() => el.dataset.paywallState === 'idle');
        el.click();
        el.click();
        await until(() => el.dataset.paywallState === 'granted', 3000, 'granted');
        expect(backend.sent('/v1/purchases')).to.have.length(1);
      });

      it('a closed window returns it to idle, nothing bought', async () => {
        const el = await fixture<HTMLButtonElement>(html`<button data-paywall-product=${C}>Buy</button>`);
        await until(() => el.dataset.paywallState === 'idle');
        el.click();
        const { win } = await popups.at('/hosted/sign-up');
        win.close();
        await until(() => el.dataset.paywallState === 'idle', 3000, 'idle after the closed window');
        expect(el.hidden).to.equal(false);
        expect(backend.requests).to.have.length(0);
      });

      it('buys with the keyboard when the trigger is a button', async () => {
        services.session.set(TOKEN);
        const el = await fixture<HTMLButtonElement>(html`<button data-paywall-product=${A}>Buy</button>`);
        await until(() => el.dataset.paywallState === 'idle');
        el.focus();
        await sendKeys({ press: 'Enter' });
        await until(() => el.dataset.paywallState === 'granted', 3000, 'granted');
      });

      it('a malformed purchase answer marks the trigger as an error and fires paywall-error', async () => {
        services.session.set(TOKEN);
        worker.use(http.post(`${BACKEND}/v1/purchases`, () => HttpResponse.json({ status: 'maybe' })));
        const el = await fixture<HTMLButtonElement>(html`<button data-paywall-product=${A}>Buy</button>`);
        await until(() => el.dataset.paywallState === 'idle');
        const error = oneEvent<PaywallErrorEvent>(el, 'paywall-error');
        el.click();
        expect(await error).to.include({ code: 'invalid_response', product: A });
        expect(el.dataset.paywallState).to.equal('error');
        expect(el.hidden).to.equal(false);
      });
    });

    it('re-access on page load: one request for every product on the page, unlocking only what is still held', async () => {
      backend.grants.set(A, hours(1));
      backend.grants.set(B, new Date(Date.now() - 1000).toISOString()); // expired
      services.session.set(TOKEN);
      const wrapper = await fixture<HTMLElement>(html`<div>
        <button id="a" data-paywall-product=${A}>Buy A</button>
        <a id="b" href="#" data-paywall-product=${B}>Buy B</a>
        <paywall-button product=${C}></paywall-button>
        <paywall-content product=${A}></paywall-content>
        <paywall-content product=${B} inline><p id="b-text">B</p></paywall-content>
      </div>`);
      const button = wrapper.querySelector('paywall-button')!;
      const [contentA, contentB] = [...wrapper.querySelectorAll('paywall-content')] as [PaywallContentElement, PaywallContentElement];
      await until(() => contentA.state === 'unlocked' && contentB.state === 'locked' && button.state === 'idle', 3000, 'everything checked');
      const checks = backend.sent('/v1/access');
      expect(checks).to.have.length(1);
      expect([...checks[0]!.body.products].sort()).to.deep.equal([A, B, C]);
      expect(wrapper.querySelector<HTMLElement>('#a')!.hidden).to.equal(true);
      expect(wrapper.querySelector<HTMLElement>('#b')!.dataset.paywallState).to.equal('idle');
      expect(wrapper.querySelector<HTMLElement>('#b-text')!.checkVisibility()).to.equal(false);
      expect(backend.sent('/v1/purchases')).to.have.length(0);
    });

    it('signed out, nothing is asked on load and nothing unlocked', async () => {
      backend.grants.set(A, hours(1));
      const wrapper = await fixture<HTMLElement>(html`<div><button data-paywall-product=${A}>Buy A</button><paywall-content product=${A}></paywall-content></div>`);
      const content = wrapper.querySelector('paywall-content')!;
      await until(() => content.state === 'locked', 3000, 'locked');
      expect(wrapper.querySelector('button')!.hidden).to.equal(false);
      expect(backend.requests).to.have.length(0);
    });

    describe('Product (milliPay-style facade)', () => {
      it('registerStartPaymentClick, then show, hide, fetchContentThenInject and fetchContentThenCall on access', async () => {
        services.session.set(TOKEN);
        worker.use(http.get(`${BACKEND}/v1/content/${A}`, () => HttpResponse.text('<p>Paid A</p><img src="data:," onerror="window.pwned = 1">')));
        const wrapper = await fixture<HTMLElement>(html`<div>
          <button id="buy">Buy</button><p id="thanks" hidden>Thanks!</p><div id="article">Teaser only.</div>
        </div>`);
        const received: string[] = [];
        const product = new Product({ product: A, price: 49, currency: 'EUR' })
          .registerStartPaymentClick(wrapper.querySelector('#buy')!)
          .show(wrapper.querySelector<HTMLElement>('#thanks')!)
          .hide(wrapper.querySelector<HTMLElement>('#buy')!)
          .fetchContentThenInject(wrapper.querySelector('#article')!)
          .fetchContentThenCall((fragment) => received.push(fragment));
        const log = productLog(product);
        const authorized = oneEvent<CustomEvent>(product, 'accessAuthorization');
        wrapper.querySelector<HTMLElement>('#buy')!.click();
        const { detail } = await authorized;
        expect(detail.product).to.equal(A);
        expect(Date.parse(detail.expiresAt)).to.be.greaterThan(Date.now());
        expect(log).to.deep.equal(['start', 'accessAuthorization']);
        expect(wrapper.querySelector<HTMLElement>('#thanks')!.hidden).to.equal(false);
        expect(wrapper.querySelector<HTMLElement>('#buy')!.hidden).to.equal(true);
        const article = wrapper.querySelector('#article')!;
        expect(article.textContent).to.equal('Paid A');
        expect(article.querySelector('[onerror]')).to.equal(null);
        expect(received).to.deep.equal(['<p>Paid A</p><img src="data:," onerror="window.pwned = 1">']);
        expect(backend.sent('/v1/purchases')).to.have.length(1);
        expect((window as { pwned?: unknown }).pwned).to.equal(undefined);
      });

      it('userAbort when the reader closes the window; error with the code on a refused purchase', async () => {
        const product = new Product({ product: A, price: 1 });
        const log = productLog(product);
        const buying = product.startPayment();
        const { win } = await popups.at('/hosted/sign-up');
        win.close();
        expect(await buying).to.equal(false);
        expect(log).to.deep.equal(['start', 'userAbort']);

        services.session.set(TOKEN);
        const error = oneEvent<CustomEvent>(product, 'error');
        expect(await product.startPayment()).to.equal(false);
        expect((await error).detail).to.deep.include({ code: 'price_mismatch' });
      });

      it('tryAccessOnLoad runs the reactions if and only if the reader still has access', async () => {
        backend.grants.set(A, hours(1));
        backend.grants.set(B, new Date(Date.now() - 1000).toISOString());
        const shown = document.createElement('p');
        shown.hidden = true;
        const held = new Product({ product: A }).show(shown);
        const expired = new Product({ product: B }).hide(document.createElement('p'));
        const log = productLog(expired);

        expect(await held.tryAccessOnLoad(), 'signed out').to.equal(false);
        expect(backend.requests).to.have.length(0);
        services.session.set(TOKEN);
        expect(await held.tryAccessOnLoad()).to.equal(true);
        expect(shown.hidden).to.equal(false);
        expect(await expired.tryAccessOnLoad()).to.equal(false);
        expect(log).to.deep.equal([]);
      });
    });
  });

  // Last: paywall.configure() lasts for the rest of the page.
  describe('paywall.configure()', () => {
    it('names the backend for the API, and picks up triggers that found none before', async () => {
      const original = console.error;
      console.error = () => undefined;
      let el: HTMLButtonElement;
      try {
        el = await fixture<HTMLButtonElement>(html`<button data-paywall-product=${A}>Buy</button>`);
        await until(() => el.dataset.paywallState === 'error', 3000, 'error without a backend');
      } finally {
        console.error = original;
      }
      backend.grants.set(A, hours(1));
      services.session.set(TOKEN);
      paywall.configure({ backend: BACKEND, storage: 'memory' });
      await until(() => el.dataset.paywallState === 'granted', 3000, 'granted once configured');
      expect(el.hidden).to.equal(true);
      expect((await paywall.checkAccess([A]))[0]!.granted).to.equal(true);
    });
  });
});
