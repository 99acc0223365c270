import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as z from 'zod/mini';
import {
  PaymentCardFailedResource, PaymentCardSuccessResource, PaymentIntent, PaymentRequiresActionResource, PaymentResponse,
} from '../../src/protocol';
import { signOffer } from '../../server/domain/offers';
import {
  access, alertText, answerBank, balance, CARDS, cardFields, completion, hostedGet, hostedPost, ledgerCount, notifications, openCheckout, outbox, payCheckout, types, unescape,
} from './card-flows';
import { databases, idempotencyKey, MERCHANT, OFFER_SECRET, startTestServer, type TestServer } from './harness';

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;

for (const database of databases) {
  describe(`one-off card payments and payment intents on ${database.name}`, { skip: database.name === 'postgres' && !database.url ? 'DATABASE_URL is not set to a PostgreSQL URL' : false }, () => {
    let server: TestServer;
    before(async () => (server = await startTestServer({ db: database.name })));
    after(() => server?.close());

    const pay = (token: string | undefined, body: Record<string, unknown>, headers?: Record<string, string>) =>
      server.api('/v1/payments', { token, body: { idempotencyKey: idempotencyKey(), ...body }, headers });
    const checkoutOf = async (token: string, body: Record<string, unknown> = { product: 'article-43' }, headers: Record<string, string> = { origin: MERCHANT }) => {
      const response = await pay(token, body, headers);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      z.parse(PaymentResponse, response.body);
      assert.equal(response.body.status, 'requires_payment_method');
      return response.body.checkoutUrl as string;
    };
    const confirm = (token: string, id: string) => server.api(`/v1/payment-intents/${id}/confirm`, { token, method: 'POST' });
    const audit = () => server.services.ledger.audit(server.database.db);

    test('refusals: signed out, unknown product, a stale display price, a foreign return URL — nothing written', async () => {
      const signedOut = await pay(undefined, { product: 'article-43' }, { origin: MERCHANT });
      assert.deepEqual([signedOut.status, signedOut.body.error.code], [401, 'sign_in_required']);
      const { token, customerId } = await server.signUp();
      assert.deepEqual((await pay(token, { product: 'article-404' })).body.error.code, 'unknown_product');
      const stale = await pay(token, { product: 'article-43', price: 49, currency: 'EUR' });
      assert.deepEqual([stale.status, stale.body.error.code], [409, 'price_mismatch']);
      const foreign = await pay(token, { product: 'article-43', returnUrl: 'https://evil.example/' });
      assert.deepEqual([foreign.status, foreign.body.error.code], [400, 'invalid_return_url']);
      const rows = await server.database.db.selectFrom('checkouts').select('id').where('customer_id', '=', customerId).execute();
      assert.equal(rows.length, 0);
    });

    test('4242: the hosted checkout charges the card once, grants access and reports payment-succeeded', async () => {
      const { token, customerId } = await server.signUp();
      const key = idempotencyKey();
      const first = await server.api('/v1/payments', { token, body: { product: 'article-43', price: 99, currency: 'EUR', idempotencyKey: key }, headers: { origin: MERCHANT } });
      const checkoutUrl = first.body.checkoutUrl as string;
      const form = await openCheckout(server, checkoutUrl);
      assert.match(form.text, /<h1>Pay for The bakery<\/h1>/);
      assert.match(form.text, /€0\.99 once, for 1 hour of access\./);
      assert.match(form.text, />Pay €0\.99<\/button>/);
      const done = await payCheckout(server, checkoutUrl, CARDS.plain);
      const result = completion(done.text);
      assert.equal(result?.targetOrigin, MERCHANT);
      assert.equal(result?.message.type, 'payment-succeeded');
      assert.equal(result?.message.product, 'article-43');
      const expiresAt = new Date(server.clock.now().getTime() + HOUR).toISOString();
      assert.deepEqual(await access(server, token, ['article-43']), { 'article-43': expiresAt });
      assert.equal(await balance(server, token), 500, 'a card payment leaves the wallet alone');
      assert.equal(await ledgerCount(server, customerId, 'card_payment'), 1);
      const sent = await notifications(server, customerId);
      assert.deepEqual(types(sent), ['wallet.balance.changed', 'payment.card.success', 'access.granted']);
      const success = z.parse(PaymentCardSuccessResource, sent[1]!.resource);
      assert.deepEqual([success.product, success.amount, success.payment_intent, success.expiresAt], ['article-43', 99, result?.message.paymentIntent, expiresAt]);
      const intent = await server.api(`/v1/payment-intents/${result?.message.paymentIntent}`, { token });
      z.parse(PaymentIntent, intent.body);
      assert.deepEqual([intent.body.status, intent.body.kind, intent.body.card, intent.body.entitlement, intent.body.redirectToUrl], ['succeeded', 'payment', { brand: 'visa', last4: '4242' }, { product: 'article-43', expiresAt }, null]);
      // The same key answers the result; a second checkout is not needed while access lasts.
      const replay = await server.api('/v1/payments', { token, body: { product: 'article-43', price: 99, currency: 'EUR', idempotencyKey: key } });
      assert.deepEqual([replay.body.status, replay.body.entitlement.expiresAt], ['granted', expiresAt]);
      const held = await pay(token, { product: 'article-43' });
      assert.deepEqual([held.body.status, held.body.paymentIntent], ['granted', null]);
      assert.equal(await ledgerCount(server, customerId, 'card_payment'), 1);
      assert.deepEqual(await audit(), []);
    });

    test('3-D Secure in redirect mode: requires.action, the bank page, back to ?payment_intent=, and a confirm that charges exactly once', async () => {
      const { token, customerId } = await server.signUp();
      const returnUrl = `${MERCHANT}/articles/43?x=1`;
      // Redirect mode: the page went to the checkout in the same tab, so there is no opener to post to.
      const checkoutUrl = await checkoutOf(token, { product: 'article-43', returnUrl }, {});
      const redirected = await payCheckout(server, checkoutUrl, CARDS.scaAlways);
      assert.equal(redirected.status, 303);
      const sent = await notifications(server, customerId);
      assert.deepEqual(types(sent), ['wallet.balance.changed', 'payment.card.requires.action']);
      const action = z.parse(PaymentRequiresActionResource, sent[1]!.resource);
      // The window goes on to the same bank page the notification names (in the checkout page's language).
      assert.equal(redirected.location, `${new URL(action.redirect_to_url).pathname}${new URL(action.redirect_to_url).search}&lang=en`);
      assert.deepEqual([action.product, action.amount, action.currency], ['article-43', 99, 'EUR']);
      const [email] = await outbox(server, token);
      assert.deepEqual([email!.kind, email!.link], ['payment_action_required', action.redirect_to_url]);

      const pending = await server.api(`/v1/payment-intents/${action.payment_intent}`, { token });
      assert.deepEqual([pending.body.status, pending.body.redirectToUrl], ['requires_action', action.redirect_to_url]);
      const early = await confirm(token, action.payment_intent);
      assert.deepEqual([early.status, early.body.error.code], [402, 'authentication_required']);

      const bank = await hostedGet(server, action.redirect_to_url);
      assert.match(bank.text, /<h1>Confirm the payment<\/h1>/);
      assert.match(bank.text, /Your bank asks you to confirm the payment of €0\.99 for The bakery/);
      assert.match(bank.text, /<button type="submit" name="outcome" value="approve"[^>]*>Approve<\/button>/);
      assert.match(bank.text, /<button type="submit" name="outcome" value="fail" class="secondary">Fail<\/button>/);
      const approved = await answerBank(server, action.redirect_to_url, 'approve');
      const result = completion(approved.text);
      assert.deepEqual(result?.message, { source: 'paywall-kit', type: 'payment-intent', paymentIntent: action.payment_intent });
      assert.equal(result?.targetOrigin, undefined);
      assert.equal(result?.returnUrl, returnUrl);
      const back = new URL(unescape(/<a href="([^"]*)">Back to the website<\/a>/.exec(approved.text)![1]!));
      assert.equal(back.searchParams.get('payment_intent'), action.payment_intent);
      assert.equal(back.searchParams.get('x'), '1');
      assert.equal(new URLSearchParams(back.hash.slice(1)).get('paywall-type'), 'payment-intent');
      // Authenticated, not yet paid: nothing is charged or granted before the confirm.
      assert.equal((await server.api(`/v1/payment-intents/${action.payment_intent}`, { token })).body.status, 'requires_confirmation');
      assert.deepEqual(await access(server, token, ['article-43']), { 'article-43': null });
      assert.equal(await ledgerCount(server, customerId, 'card_payment'), 0);

      // The kit comes back with ?payment_intent= and confirms — possibly several times at once.
      const confirms = await Promise.all(Array.from({ length: 5 }, () => confirm(token, action.payment_intent)));
      assert.deepEqual(confirms.map((c) => c.status), [200, 200, 200, 200, 200]);
      for (const c of confirms) assert.deepEqual([c.body.status, c.body.entitlement?.product], ['succeeded', 'article-43']);
      assert.equal((await confirm(token, action.payment_intent)).body.status, 'succeeded');
      assert.equal(await ledgerCount(server, customerId, 'card_payment'), 1);
      assert.deepEqual(types(await notifications(server, customerId)).slice(2), ['payment.card.success', 'access.granted']);
      assert.ok((await access(server, token, ['article-43']))['article-43']);
      // Someone else cannot read or confirm it.
      const other = await server.signUp();
      assert.equal((await server.api(`/v1/payment-intents/${action.payment_intent}`, { token: other.token })).body.error.code, 'intent_not_found');
      assert.equal((await confirm(other.token, action.payment_intent)).status, 404);
      assert.equal((await confirm(token, 'pi_unknown')).status, 404);
      assert.deepEqual(await audit(), []);
    });

    test('3-D Secure failed: payment.card.failed with a message, confirm answers authentication_failed, and the reader can try again', async () => {
      const { token, customerId } = await server.signUp();
      const redirected = await payCheckout(server, await checkoutOf(token, { product: 'article-42' }), CARDS.scaFirst);
      const failed = await answerBank(server, redirected.location!, 'fail');
      const result = completion(failed.text);
      assert.equal(result?.message.type, 'payment-intent');
      assert.equal(result?.targetOrigin, MERCHANT);
      assert.match(failed.text, /nothing was charged/);
      const sent = await notifications(server, customerId);
      const failure = z.parse(PaymentCardFailedResource, sent.at(-1)!.resource);
      assert.deepEqual([sent.at(-1)!.type, failure.reason, failure.payment_intent], ['payment.card.failed', 'authentication_failed', result?.message.paymentIntent]);
      const refused = await confirm(token, result?.message.paymentIntent);
      assert.deepEqual([refused.status, refused.body.error.code, refused.body.error.message], [402, 'authentication_failed', failure.message]);
      assert.deepEqual(await access(server, token, ['article-42']), { 'article-42': null });
      // A new attempt with a new key; this card asks for 3-D Secure on its first payment, so approve it this time.
      const retry = await payCheckout(server, await checkoutOf(token, { product: 'article-42' }), CARDS.scaFirst);
      const approved = completion((await answerBank(server, retry.location!, 'approve')).text);
      assert.equal((await confirm(token, approved?.message.paymentIntent)).body.status, 'succeeded');
      assert.equal(await ledgerCount(server, customerId, 'card_payment'), 1);
    });

    test('replaying the key of a payment waiting for 3-D Secure answers the intent and its bank page; the bank page speaks German', async () => {
      const { token } = await server.signUp();
      const key = idempotencyKey();
      const first = await server.api('/v1/payments', { token, body: { product: 'article-42', idempotencyKey: key } });
      const redirected = await payCheckout(server, first.body.checkoutUrl, CARDS.scaAlways, 'de');
      assert.match(redirected.location ?? '', /&lang=de$/);
      const bank = await hostedGet(server, redirected.location!);
      assert.match(bank.text, /<html lang="de">/);
      assert.match(bank.text, /Ihre Bank bittet Sie, die Zahlung von 0,49\s€ für Night trains zu bestätigen/);
      assert.match(bank.text, />Bestätigen<\/button>/);
      const replay = await server.api('/v1/payments', { token, body: { product: 'article-42', idempotencyKey: key } });
      z.parse(PaymentResponse, replay.body);
      assert.deepEqual([replay.body.status, replay.body.paymentIntent.status], ['requires_action', 'requires_action']);
      assert.equal(new URL(replay.body.paymentIntent.redirectToUrl).searchParams.get('intent'), new URL(redirected.location!, server.url).searchParams.get('intent'));
      // The used checkout link now leads to the bank page.
      const reopened = await hostedGet(server, new URL(first.body.checkoutUrl).pathname + new URL(first.body.checkoutUrl).search);
      assert.equal(reopened.status, 303);
    });

    test('an intent not authenticated within 24 h is canceled: the bank page and confirm say it expired', async () => {
      const { token } = await server.signUp();
      const redirected = await payCheckout(server, await checkoutOf(token), CARDS.scaAlways);
      const id = new URL(redirected.location!, server.url).searchParams.get('intent')!;
      server.clock.advance(DAY);
      const late = await hostedGet(server, redirected.location!);
      assert.equal(late.status, 410);
      assert.match(alertText(late.text) ?? '', /expired/);
      const refused = await confirm(token, id);
      assert.deepEqual([refused.status, refused.body.error.code], [410, 'intent_expired']);
      assert.equal((await server.api(`/v1/payment-intents/${id}`, { token })).body.status, 'canceled');
    });

    test('an approved but unconfirmed payment expires too', async () => {
      const { token, customerId } = await server.signUp();
      const redirected = await payCheckout(server, await checkoutOf(token), CARDS.scaAlways);
      const id = completion((await answerBank(server, redirected.location!, 'approve')).text)?.message.paymentIntent;
      server.clock.advance(DAY);
      assert.equal((await server.services.billing.tick()).expiredIntents >= 1, true);
      assert.equal((await confirm(token, id)).body.error.code, 'intent_expired');
      assert.equal(await ledgerCount(server, customerId, 'card_payment'), 0);
    });

    test('a forged or altered 3-D Secure link shows an error and changes nothing', async () => {
      const { token } = await server.signUp();
      const redirected = await payCheckout(server, await checkoutOf(token), CARDS.scaAlways);
      const url = new URL(redirected.location!, server.url);
      url.searchParams.set('sig', 'A'.repeat(32));
      const forged = await hostedGet(server, url.pathname + url.search);
      assert.equal(forged.status, 404);
      assert.match(alertText(forged.text) ?? '', /not valid/);
      const posted = await hostedPost(server, url.pathname + url.search, { outcome: 'approve' });
      assert.equal(posted.status, 404);
      const id = url.searchParams.get('intent')!;
      assert.equal((await server.api(`/v1/payment-intents/${id}`, { token })).body.status, 'requires_action');
      // A bank page posted from another site is refused like every hosted form.
      const crossSite = await hostedPost(server, redirected.location!, { outcome: 'approve' }, { origin: 'https://evil.example' });
      assert.equal(crossSite.status, 403);
      assert.equal((await server.api(`/v1/payment-intents/${id}`, { token })).body.status, 'requires_action');
    });

    test('the checkout form: declines and mistakes re-render the form and charge nothing; the page has the hosted headers', async () => {
      const { token, customerId } = await server.signUp();
      const page = await openCheckout(server, await checkoutOf(token, { product: 'article-42' }));
      assert.equal(page.headers.get('content-security-policy'), "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
      assert.equal(page.headers.get('x-frame-options'), 'DENY');
      assert.equal(page.headers.get('cache-control'), 'no-store');
      assert.doesNotMatch(page.text, /<script(?![^>]*\ssrc=)[^>]*>|\sstyle=|\son[a-z]+=/i);
      for (const [, id] of page.text.matchAll(/<input id="([^"]+)"/g)) assert.match(page.text, new RegExp(`<label for="${id}">`), `label for ${id}`);
      const action = unescape(/<form method="post" action="([^"]*)"/.exec(page.text)![1]!);
      const cases: Array<[Record<string, string>, number, string]> = [
        [cardFields(CARDS.declined), 402, 'The card was declined by its bank. Use another card.'],
        [cardFields(CARDS.poor), 402, 'The card was declined for insufficient funds. Use another card.'],
        [cardFields('4111111111111111'), 402, 'The card was declined. In the sandbox, use test card 4242 4242 4242 4242.'],
        [cardFields(CARDS.plain, { expYear: '2025' }), 402, 'This card has expired. Use another card.'],
        [cardFields('4242'), 400, 'Enter the card number: 12 to 19 digits.'],
        [cardFields(CARDS.plain, { cvc: '1' }), 400, 'Enter the 3 or 4 digit security code from the back of the card.'],
      ];
      for (const [fields, status, message] of cases) {
        const again = await hostedPost(server, action, fields);
        assert.equal(again.status, status, message);
        assert.equal(alertText(again.text), message);
        assert.equal(completion(again.text), null);
        assert.ok(!again.text.includes(fields.cardNumber!) || fields.cardNumber === '4242');
      }
      const crossSite = await hostedPost(server, action, cardFields(CARDS.plain), { origin: 'https://evil.example' });
      assert.equal(crossSite.status, 403);
      assert.equal(await ledgerCount(server, customerId, 'card_payment'), 0);
      const tokens = await server.database.db.selectFrom('card_tokens').select('id').where('customer_id', '=', customerId).execute();
      assert.equal(tokens.length, 0, 'declined cards are not kept');
      // Two posts of the same form (a double click) pay once.
      const [a, b] = await Promise.all([hostedPost(server, action, cardFields(CARDS.plain)), hostedPost(server, action, cardFields(CARDS.plain))]);
      assert.deepEqual([completion(a.text)?.message.type, completion(b.text)?.message.type], ['payment-succeeded', 'payment-succeeded']);
      assert.equal(await ledgerCount(server, customerId, 'card_payment'), 1);
    });

    test('checkout links: unknown is 404, an expired one is 410 and charges nothing, the same key reopens it', async () => {
      const { token } = await server.signUp();
      assert.equal((await hostedGet(server, '/hosted/checkout?checkout=chk_nothing')).status, 404);
      assert.equal((await hostedGet(server, '/hosted/checkout')).status, 404);
      assert.equal((await hostedGet(server, '/hosted/sandbox/card?checkout=chk_nothing')).status, 404);
      const key = idempotencyKey();
      const first = await server.api('/v1/payments', { token, body: { product: 'article-42', idempotencyKey: key } });
      const url = new URL(first.body.checkoutUrl);
      server.clock.advance(HOUR);
      const expired = await hostedGet(server, url.pathname + url.search);
      assert.equal(expired.status, 410);
      assert.match(alertText(expired.text) ?? '', /expired\. Nothing was charged/);
      const reopened = await server.api('/v1/payments', { token, body: { product: 'article-42', idempotencyKey: key } });
      assert.equal(reopened.body.checkoutUrl, first.body.checkoutUrl);
      assert.equal(Date.parse(reopened.body.expiresAt), server.clock.now().getTime() + HOUR);
      assert.equal(completion((await payCheckout(server, reopened.body.checkoutUrl, CARDS.plain)).text)?.message.type, 'payment-succeeded');
    });

    test('the sandbox behind the provider interface: its page is the card form, it charges in-process, it sends no callbacks', async () => {
      const { token } = await server.signUp();
      const checkoutUrl = await checkoutOf(token, { product: 'article-43' }, {});
      const link = await hostedGet(server, new URL(checkoutUrl).pathname + new URL(checkoutUrl).search + '&lang=de');
      assert.equal(link.status, 303);
      const form = new URL(link.location!, server.url);
      assert.equal(form.pathname, '/hosted/sandbox/card');
      assert.equal(form.searchParams.get('lang'), 'de', 'the language travels on');
      const redirected = await payCheckout(server, checkoutUrl, CARDS.scaAlways);
      const intent = new URL(redirected.location!, server.url).searchParams.get('intent')!;
      const pending = (await server.api(`/v1/payment-intents/${intent}`, { token })).body;
      assert.deepEqual([pending.status, pending.amount, pending.currency], ['requires_action', 99, 'EUR']);
      await answerBank(server, redirected.location!, 'approve');
      await server.api(`/v1/payment-intents/${intent}/confirm`, { token, method: 'POST' });
      assert.equal((await server.api(`/v1/payment-intents/${intent}`, { token })).body.status, 'succeeded');
      // Anything sent to its callback URL is refused and recorded, like an unverifiable callback.
      const callback = await fetch(new URL('/callbacks/sandbox?paid=1', server.url));
      assert.deepEqual([callback.status, await callback.text()], [400, 'The sandbox sends no callbacks']);
      const recorded = await server.database.db.selectFrom('provider_callbacks').select(['provider', 'outcome', 'query']).execute();
      assert.deepEqual(recorded, [{ provider: 'sandbox', outcome: 'rejected', query: 'paid=1' }]);
    });

    test('signed offers can be paid by card at their signed price', async () => {
      const { token, customerId } = await server.signUp();
      const offer = signOffer(OFFER_SECRET, { product: 'live-9', title: 'Live match', price: 250, currency: 'EUR', validity: 7200, expiresAt: Math.floor(server.clock.now().getTime() / 1000) + 600 });
      const done = await payCheckout(server, await checkoutOf(token, { offer }), CARDS.plain);
      assert.equal(completion(done.text)?.message.product, 'live-9');
      assert.match(done.text, /Paid\. You can read Live match until/);
      assert.deepEqual(await access(server, token, ['live-9']), { 'live-9': new Date(server.clock.now().getTime() + 7200_000).toISOString() });
      assert.equal(await ledgerCount(server, customerId, 'card_payment'), 1);
    });
  });
}

describe('with the sandbox provider off', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer({ config: { sandbox: false } })));
  after(() => server?.close());

  test('the outbox does not exist, card methods are unavailable, and plans offer the wallet only', async () => {
    const { token } = await server.signUp();
    const outboxResponse = await server.api('/v1/sandbox/outbox', { token });
    assert.deepEqual([outboxResponse.status, outboxResponse.body.error.code], [404, 'not_found']);
    const payment = await server.api('/v1/payments', { token, body: { product: 'article-42', idempotencyKey: idempotencyKey() } });
    assert.deepEqual([payment.status, payment.body.error.code], [400, 'payment_method_unavailable']);
    const card = await server.api('/v1/subscriptions', { token, body: { plan: 'gold-monthly', method: 'card', idempotencyKey: idempotencyKey() } });
    assert.deepEqual([card.status, card.body.error.code], [400, 'payment_method_unavailable']);
    const catalog = await server.api('/v1/catalog');
    assert.deepEqual(catalog.body.plans.find((p: any) => p.id === 'gold-monthly').methods, ['wallet']);
    const wallet = await server.api('/v1/subscriptions', { token, body: { plan: 'gold-monthly', method: 'wallet', idempotencyKey: idempotencyKey() } });
    assert.equal(wallet.body.status, 'active');
  });

  test('with the sandbox on, the outbox needs a session and shows only the reader’s own emails', async () => {
    const sandbox = await startTestServer();
    try {
      assert.equal((await sandbox.api('/v1/sandbox/outbox')).status, 401);
      const { token } = await sandbox.signUp();
      assert.deepEqual((await sandbox.api('/v1/sandbox/outbox', { token })).body, { emails: [] });
    } finally {
      await sandbox.close();
    }
  });
});
