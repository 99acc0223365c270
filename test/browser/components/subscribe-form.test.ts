import { expect, fixture, html } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { nothing } from 'lit';
import { http, HttpResponse } from 'msw';
import '../../../src/index';
import type { SubscribeFormElement } from '../../../src/components/subscribe-form';
import type { PaywallErrorEvent, PaywallSubscriptionEvent } from '../../../src/events';
import { BACKEND, until, worker } from '../helpers/mock-backend';
import { FakePayments, VEROTEL_CANCEL_URL, subscription } from '../helpers/mock-payments';
import { listen, useKit } from '../helpers/kit-fixture';
import { postFromPopup } from '../helpers/popups';

const TOKEN = 'subscribe-form-token';

async function mount(locale?: string): Promise<SubscribeFormElement> {
  const wrapper = await fixture<HTMLElement>(html`<paywall-config backend=${BACKEND} locale=${locale ?? nothing}><subscribe-form plans="gold-monthly gold-yearly"></subscribe-form></paywall-config>`);
  const el = wrapper.querySelector('subscribe-form')!;
  await el.updateComplete;
  return el;
}

const part = (el: SubscribeFormElement, name: string) => [...el.shadowRoot!.querySelectorAll<HTMLElement>(`[part~="${name}"]`)];
const text = (node: Element | undefined) => (node?.textContent ?? '').replace(/\s+/g, ' ').trim();
const status = (el: SubscribeFormElement) => text(el.shadowRoot!.querySelector('[role="status"]')!);
const button = (el: SubscribeFormElement, label: string) => [...el.shadowRoot!.querySelectorAll('button')].find((b) => text(b) === label)!;

describe('<subscribe-form>', () => {
  const kit = useKit({ token: TOKEN, recordNavigation: true });
  let payments: FakePayments;
  beforeEach(() => (payments = new FakePayments(kit.backend)));

  it('lists the plans with localized price and period', async () => {
    const el = await mount();
    await until(() => el.state === 'ready', 3000, 'ready');
    await el.updateComplete;
    expect(part(el, 'plan-title').map(text)).to.deep.equal(['Gold monthly', 'Gold yearly']);
    expect(part(el, 'plan-price').map(text)).to.deep.equal(['€4.99 / month', '€49.00 / year']);
    expect(part(el, 'plan-trial').map(text)).to.deep.equal(['14-day free trial']);
    expect(part(el, 'subscribe').map(text)).to.deep.equal(['Subscribe with wallet', 'Subscribe with card', 'Subscribe with wallet', 'Subscribe with card']);
    expect(kit.backend.sent('/v1/subscriptions'), 'nothing asked while signed out').to.have.length(0);
    await expect(el).to.be.accessible();
  });

  it('lists them in German', async () => {
    const el = await mount('de');
    await until(() => el.state === 'ready', 3000, 'ready');
    await el.updateComplete;
    expect(part(el, 'plan-price').map((p) => text(p).replace(/\u00a0/g, ' '))).to.deep.equal(['4,99 € / Monat', '49,00 € / Jahr']);
    expect(part(el, 'subscribe').map(text)[1]).to.equal('Mit Karte abonnieren');
  });

  it('signed out: opens sign-up first in the click, then the card checkout in the same window; "subscribed" shows it active', async () => {
    const el = await mount();
    await until(() => el.state === 'ready', 3000, 'ready');
    const events = listen<PaywallSubscriptionEvent>(el, 'paywall-subscription');
    button(el, 'Subscribe with card').click();
    expect(kit.popups.calls, 'opened inside the click').to.equal(1);
    const signUp = await kit.popups.at('/hosted/sign-up');
    expect(el.state).to.equal('window-open');
    postFromPopup(signUp.win, { source: 'paywall-kit', type: 'signed-up', token: TOKEN });

    const checkout = await kit.popups.at('/hosted/checkout');
    // One window carries the whole flow: the sign-up window, navigated on to the checkout.
    expect(checkout.win, 'the same window, navigated').to.equal(signUp.win);
    expect(signUp.win.closed).to.equal(false);
    expect(kit.popups.calls, 'no second window').to.equal(1);
    expect(kit.popups.opened).to.have.length(1);
    expect(kit.backend.sent('/v1/subscriptions', 'POST')[0]!.body).to.include({ plan: 'gold-monthly', method: 'card' });
    await until(() => status(el) === 'Enter your card in the window that opened.', 3000, 'paying status');
    payments.subscriptions.unshift(subscription({ id: 'sub_card', method: 'card', card: { brand: 'visa', last4: '4242' } }));
    postFromPopup(checkout.win, { source: 'paywall-kit', type: 'subscribed', subscription: 'sub_card' });

    await until(() => el.state === 'subscribed', 3000, 'subscribed');
    await el.updateComplete;
    await until(() => checkout.win.closed, 3000, 'the flow to close its window');
    expect(text(part(el, 'subscription-state')[0])).to.equal('Active');
    expect(text(part(el, 'payment-method')[0])).to.equal('Visa ending in 4242');
    expect(status(el)).to.equal('Subscription started.');
    expect(events.map((e) => e.status)).to.deep.equal(['active']);
    expect(events[0]!.subscription?.id).to.equal('sub_card');
    await expect(el).to.be.accessible();
  });

  it('signed in, wallet: subscribes without any window, from the keyboard', async () => {
    kit.services.session.set(TOKEN);
    const el = await mount();
    await until(() => el.state === 'ready', 3000, 'ready');
    const events = listen<PaywallSubscriptionEvent>(el, 'paywall-subscription');
    button(el, 'Subscribe with wallet').focus();
    await sendKeys({ press: 'Enter' });
    await until(() => el.state === 'subscribed', 3000, 'subscribed');
    await el.updateComplete;
    expect(kit.popups.calls).to.equal(0);
    expect(text(part(el, 'payment-method')[0])).to.equal('Paid from your wallet');
    expect(events.map((e) => e.status)).to.deep.equal(['active']);
    expect(el.shadowRoot!.activeElement?.getAttribute('part'), 'focus on the new subscription').to.equal('current');
  });

  it('shows the current subscription: state, next billing date, card', async () => {
    payments.subscriptions = [subscription({ method: 'card', card: { brand: 'visa', last4: '3184' } })];
    kit.services.session.set(TOKEN);
    const el = await mount();
    await until(() => el.state === 'subscribed', 3000, 'subscribed');
    await el.updateComplete;
    expect(text(part(el, 'subscription-state')[0])).to.equal('Active');
    expect(text(part(el, 'next-billing')[0])).to.equal('Next payment on 1 March 2031');
    expect(text(part(el, 'payment-method')[0])).to.equal('Visa ending in 3184');
    expect(part(el, 'plans')).to.have.length(0);
    await expect(el).to.be.accessible();
  });

  it('cancels only after the inline confirmation; Escape keeps it', async () => {
    payments.subscriptions = [subscription()];
    kit.services.session.set(TOKEN);
    const el = await mount();
    await until(() => el.state === 'subscribed', 3000, 'subscribed');
    const events = listen<PaywallSubscriptionEvent>(el, 'paywall-subscription');

    part(el, 'cancel')[0]!.click();
    await el.updateComplete;
    expect(el.state).to.equal('confirming');
    expect(text(el.shadowRoot!.querySelector('#confirm-text')!)).to.equal('Cancel Gold monthly? You keep access until 1 March 2031.');
    expect(el.shadowRoot!.activeElement?.getAttribute('part'), 'focus moved to the confirmation').to.equal('keep');
    await expect(el).to.be.accessible();
    await sendKeys({ press: 'Escape' });
    await el.updateComplete;
    expect(el.state).to.equal('subscribed');
    expect(el.shadowRoot!.activeElement?.getAttribute('part')).to.equal('cancel');
    expect(kit.backend.sent('/v1/subscriptions/sub_1', 'DELETE')).to.have.length(0);

    await sendKeys({ press: 'Enter' });
    await el.updateComplete;
    expect(el.state).to.equal('confirming');
    part(el, 'confirm-cancel')[0]!.click();
    await until(() => status(el) === 'Subscription canceled.', 3000, 'canceled');
    await el.updateComplete;
    expect(kit.backend.sent('/v1/subscriptions/sub_1', 'DELETE')).to.have.length(1);
    expect(text(part(el, 'subscription-state')[0])).to.equal('Canceled');
    expect(text(part(el, 'next-billing')[0])).to.equal('Access until 1 March 2031');
    expect(part(el, 'cancel')).to.have.length(0);
    expect(events.map((e) => e.status)).to.deep.equal(['canceled']);
  });

  /** A signed-in reader whose subscription Verotel bills, shown. */
  const subscribedAtVerotel = async () => {
    payments.subscriptions = [subscription({ method: 'card', card: null, provider: 'verotel' })];
    kit.services.session.set(TOKEN);
    const el = await mount();
    await until(() => el.state === 'subscribed', 3000, 'subscribed');
    await el.updateComplete;
    return el;
  };

  it('a subscription a provider bills says so; when only the provider can cancel it, links to its page and changes nothing', async () => {
    const el = await subscribedAtVerotel();
    expect(text(part(el, 'payment-method')[0])).to.equal('Billed by Verotel');
    const errors = listen<PaywallErrorEvent>(el, 'paywall-error');
    part(el, 'cancel')[0]!.click();
    await el.updateComplete;
    part(el, 'confirm-cancel')[0]!.click();
    await until(() => el.state === 'error', 3000, 'error shown');
    await el.updateComplete;
    expect(text(part(el, 'error')[0])).to.equal('This subscription is billed by a payment provider: cancel it on their page.');
    const link = part(el, 'provider-cancel')[0] as HTMLAnchorElement;
    expect(link.href).to.equal(VEROTEL_CANCEL_URL);
    expect(link.target).to.equal('_blank');
    expect(text(link)).to.equal('Cancel on the payment provider’s page');
    expect(errors.map((e) => e.code)).to.deep.equal(['cancel_at_provider']);
    expect(text(part(el, 'subscription-state')[0]), 'nothing changed here').to.equal('Active');
    await expect(el).to.be.accessible();
  });

  it('a later, unrelated failure does not show the provider\'s cancel link again', async () => {
    const el = await subscribedAtVerotel();
    part(el, 'cancel')[0]!.click();
    await el.updateComplete;
    part(el, 'confirm-cancel')[0]!.click();
    await until(() => part(el, 'provider-cancel').length === 1, 3000, 'the provider link');
    worker.use(http.get(`${BACKEND}/v1/catalog`, () => HttpResponse.json({ error: { code: 'internal_error', message: 'down' } }, { status: 500 })));
    const errors = listen<PaywallErrorEvent>(el, 'paywall-error');
    el.plans = 'gold-monthly';
    await until(() => errors.length === 1, 3000, 'the catalog failure');
    await el.updateComplete;
    expect(errors[0]!.code).to.not.equal('cancel_at_provider');
    expect(text(part(el, 'error')[0])).to.not.equal('This subscription is billed by a payment provider: cancel it on their page.');
    expect(part(el, 'provider-cancel')).to.have.length(0);
  });

  it('shows a configuration error for a plan the backend does not sell', async () => {
    const wrapper = await fixture<HTMLElement>(html`<paywall-config backend=${BACKEND}><subscribe-form plans="nope"></subscribe-form></paywall-config>`);
    const el = wrapper.querySelector('subscribe-form')!;
    const original = console.error;
    console.error = () => undefined;
    try {
      await until(() => el.state === 'error', 3000, 'error');
    } finally {
      console.error = original;
    }
    await el.updateComplete;
    expect(text(part(el, 'error')[0])).to.equal('Paywall is not configured correctly.');
  });
});
