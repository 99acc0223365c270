import { expect, fixture, html } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import '../../../src/index';
import type { ScaHandlerElement } from '../../../src/components/sca-handler';
import type { PaywallAccessEvent, PaywallErrorEvent, PaywallRequiresActionEvent } from '../../../src/events';
import { BACKEND, notificationsLink, sleep, until, worker } from '../helpers/mock-backend';
import { FakePayments, intent } from '../helpers/mock-payments';
import { listen, useKit } from '../helpers/kit-fixture';
import { postFromPopup } from '../helpers/popups';

// Own token and intent ids: test files run in parallel pages that share Web Locks and BroadcastChannels.
const TOKEN = 'sca-handler-token';
const PRODUCT = 'report-2026';

const status = (el: ScaHandlerElement) => el.shadowRoot!.querySelector('[role="status"]')!.textContent!.trim();

async function mount(mode: 'popup' | 'redirect' = 'popup'): Promise<ScaHandlerElement> {
  const wrapper = await fixture<HTMLElement>(html`<paywall-config backend=${BACKEND}><sca-handler mode=${mode}></sca-handler></paywall-config>`);
  const el = wrapper.querySelector('sca-handler')!;
  await el.updateComplete;
  return el;
}

/** The notification socket: sends `payment.card.requires.action` for `id` on connect; `close` drops it right after. */
function requiresAction(id: string, close = false) {
  let sent = false;
  worker.use(notificationsLink.addEventListener('connection', ({ client }) => {
    if (!sent) {
      sent = true;
      client.send(JSON.stringify({
        id: 1, type: 'payment.card.requires.action', createdAt: new Date().toISOString(),
        resource: { redirect_to_url: `${BACKEND}/hosted/3ds?intent=${id}&sig=x`, payment_intent: id, product: PRODUCT, amount: 299, currency: 'EUR' },
      }));
    }
    if (close) setTimeout(() => client.close(), 20);
  }));
}

describe('<sca-handler>', () => {
  const kit = useKit({ token: TOKEN, recordNavigation: true });
  let payments: FakePayments;
  beforeEach(() => {
    payments = new FakePayments(kit.backend);
    kit.services.session.set(TOKEN);
  });

  it('is invisible and axe-clean while nothing waits', async () => {
    const el = await mount();
    expect(el.getAttribute('state')).to.equal('idle');
    expect(getComputedStyle(el).display).to.equal('contents');
    await expect(el).to.be.accessible();
  });

  it('popup mode: opens the 3-D Secure page of a requires.action notification, confirms once, fires paywall-access', async () => {
    payments.intents.set('pi_h1', intent({ id: 'pi_h1', redirectToUrl: `${BACKEND}/hosted/3ds?intent=pi_h1&sig=x` }));
    requiresAction('pi_h1');
    const el = await mount();
    const required = listen<PaywallRequiresActionEvent>(el, 'paywall-requires-action');
    const access = listen<PaywallAccessEvent>(el, 'paywall-access');
    const { win, url } = await kit.popups.at('/hosted/3ds');
    expect(url.searchParams.get('intent')).to.equal('pi_h1');
    expect(required.map((e) => e.paymentIntent)).to.deep.equal(['pi_h1']);
    expect(el.state).to.equal('window-open');
    expect(status(el)).to.equal('Verify the payment in the window that opened.');

    payments.intents.get('pi_h1').status = 'requires_confirmation';
    postFromPopup(win, { source: 'paywall-kit', type: 'payment-intent', paymentIntent: 'pi_h1' });
    await until(() => el.state === 'done', 3000, 'done');
    expect(access.map((e) => ({ product: e.product, source: e.source }))).to.deep.equal([{ product: PRODUCT, source: 'purchase' }]);
    expect(kit.backend.sent('/v1/payment-intents/pi_h1/confirm', 'POST')).to.have.length(1);
    expect(status(el)).to.equal('Payment confirmed. Access granted.');
    expect(kit.services.entitlements.get(PRODUCT)?.granted).to.equal(true);
    await expect(el).to.be.accessible();
  });

  it('popup blocked: shows "Complete verification", which opens the page on a keyboard press', async () => {
    kit.popups.blocked = true;
    payments.intents.set('pi_h2', intent({ id: 'pi_h2', redirectToUrl: `${BACKEND}/hosted/3ds?intent=pi_h2&sig=x` }));
    requiresAction('pi_h2');
    const el = await mount();
    await until(() => el.state === 'blocked', 3000, 'blocked');
    await el.updateComplete;
    const button = el.shadowRoot!.querySelector<HTMLButtonElement>('[part="button"]')!;
    expect(button.textContent!.trim()).to.equal('Complete verification');
    expect(status(el)).to.equal('Your bank asks you to verify this payment.');
    await expect(el).to.be.accessible();

    kit.popups.blocked = false;
    button.focus();
    await sendKeys({ press: 'Enter' });
    const { url } = await kit.popups.at('/hosted/3ds');
    expect(url.searchParams.get('intent')).to.equal('pi_h2');
    expect(el.state).to.equal('window-open');
    expect(kit.navigated).to.deep.equal([]);
  });

  it('redirect mode: leaves for the 3-D Secure page', async () => {
    payments.intents.set('pi_h3', intent({ id: 'pi_h3', redirectToUrl: `${BACKEND}/hosted/3ds?intent=pi_h3&sig=x` }));
    requiresAction('pi_h3');
    await mount('redirect');
    await until(() => kit.navigated.length === 1, 3000, 'navigation');
    const url = new URL(kit.navigated[0]!);
    expect(url.pathname).to.equal('/hosted/3ds');
    expect(url.searchParams.get('intent')).to.equal('pi_h3');
    expect(kit.popups.calls).to.equal(0);
  });

  it('socket down: polls the intent until it succeeds, without any message from the window', async () => {
    payments.intents.set('pi_h4', intent({ id: 'pi_h4', kind: 'subscription', product: null, plan: 'gold-monthly', subscription: 'sub_9', redirectToUrl: `${BACKEND}/hosted/3ds?intent=pi_h4&sig=x` }));
    requiresAction('pi_h4', true);
    const el = await mount();
    await kit.popups.at('/hosted/3ds');
    await until(() => !kit.services.notifications.connected, 3000, 'the socket to drop');
    const before = kit.backend.sent('/v1/payment-intents/pi_h4').length;
    payments.intents.get('pi_h4').status = 'succeeded';
    await until(() => el.state === 'done', 6000, 'done by polling');
    expect(kit.backend.sent('/v1/payment-intents/pi_h4').length).to.be.greaterThan(before);
  });

  describe('returning with ?payment_intent=', () => {
    let before: string;
    beforeEach(() => (before = location.href));
    afterEach(() => history.replaceState(history.state, '', before));

    it('confirms it exactly once, cleans the URL with replaceState and fires paywall-access', async () => {
      payments.intents.set('pi_r1', intent({ id: 'pi_r1', status: 'requires_confirmation' }));
      history.replaceState(history.state, '', `${location.pathname}?a=1&payment_intent=pi_r1#paywall-type=payment-intent`);
      const access: PaywallAccessEvent[] = [];
      document.addEventListener('paywall-access', (e) => access.push(e as PaywallAccessEvent), { once: true });
      const el = await mount();
      await until(() => el.state === 'done', 3000, 'done');
      expect(access.map((e) => ({ product: e.product, source: e.source }))).to.deep.equal([{ product: PRODUCT, source: 'redirect' }]);
      expect(location.search).to.equal('?a=1');
      expect(location.hash).to.equal('');
      // A second handler on the page (or a re-render) confirms nothing more.
      await mount();
      await sleep(50);
      expect(kit.backend.sent('/v1/payment-intents/pi_r1/confirm', 'POST')).to.have.length(1);
    });

    it('fires paywall-error when the confirm fails, and shows why', async () => {
      payments.intents.set('pi_r2', intent({ id: 'pi_r2', status: 'requires_confirmation' }));
      payments.confirmOutcome = 'failed';
      history.replaceState(history.state, '', `${location.pathname}?payment_intent=pi_r2`);
      const errors: PaywallErrorEvent[] = [];
      document.addEventListener('paywall-error', (e) => errors.push(e as PaywallErrorEvent), { once: true });
      const el = await mount();
      await until(() => el.state === 'error', 3000, 'error');
      expect(errors.map((e) => e.code)).to.deep.equal(['authentication_failed']);
      expect(el.shadowRoot!.querySelector('[part="error"]')!.textContent).to.contain('did not confirm');
      expect(location.search).to.equal('');
      await expect(el).to.be.accessible();
    });
  });
});
