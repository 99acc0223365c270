import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as z from 'zod/mini';
import { CreateSubscriptionResponse, SubscribeRequiresActionResource, SubscribeSuccessResource, SubscriptionsResponse } from '../../src/protocol';
import { access, alertText, answerBank, balance, CARDS, charges, completion, hostedGet, ledgerCount, notifications, openCheckout, outbox, payCheckout, subscriptionsOf, types } from './card-flows';
import { databases, idempotencyKey, MERCHANT, startTestServer, type TestServer } from './harness';

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;

for (const database of databases) {
  describe(`subscriptions on ${database.name}`, { skip: database.name === 'postgres' && !database.url ? 'DATABASE_URL is not set to a PostgreSQL URL' : false }, () => {
    let server: TestServer;
    before(async () => (server = await startTestServer({ db: database.name })));
    after(() => server?.close());

    const subscribe = (token: string | undefined, body: Record<string, unknown>, headers?: Record<string, string>) =>
      server.api('/v1/subscriptions', { token, body: { idempotencyKey: idempotencyKey(), ...body }, headers });
    const audit = () => server.services.ledger.audit(server.database.db);
    /** Starts a card subscription and returns its checkout URL. */
    const cardCheckout = async (token: string, plan = 'gold-monthly', extra: Record<string, unknown> = {}) => {
      const { status, body } = await subscribe(token, { plan, method: 'card', ...extra }, { origin: MERCHANT });
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.status, 'requires_payment_method');
      z.parse(CreateSubscriptionResponse, body);
      return body.checkoutUrl as string;
    };

    test('refusals: signed out, unknown plan, a method the plan does not take, a foreign return URL — nothing written', async () => {
      const signedOut = await subscribe(undefined, { plan: 'gold-monthly', method: 'wallet' }, { origin: MERCHANT });
      assert.deepEqual([signedOut.status, signedOut.body.error.code], [401, 'sign_in_required']);
      assert.equal(new URL(signedOut.body.error.signInUrl).searchParams.get('origin'), MERCHANT);
      const { token } = await server.signUp();
      const unknown = await subscribe(token, { plan: 'platinum', method: 'wallet' });
      assert.deepEqual([unknown.status, unknown.body.error.code], [404, 'unknown_plan']);
      const cardOnWalletPlan = await subscribe(token, { plan: 'wallet-only', method: 'card' });
      assert.deepEqual([cardOnWalletPlan.status, cardOnWalletPlan.body.error.code], [400, 'payment_method_not_allowed']);
      const foreign = await subscribe(token, { plan: 'gold-monthly', method: 'card', returnUrl: 'https://evil.example/back' });
      assert.deepEqual([foreign.status, foreign.body.error.code], [400, 'invalid_return_url']);
      assert.deepEqual(await subscriptionsOf(server, token), []);
      assert.equal(await balance(server, token), 500);
    });

    test('wallet: charged at once through the ledger, active until the same day next month, access and notifications', async () => {
      const { token, customerId } = await server.signUp();
      const key = idempotencyKey();
      const { status, body } = await server.api('/v1/subscriptions', { token, body: { plan: 'gold-monthly', method: 'wallet', idempotencyKey: key } });
      assert.equal(status, 200);
      z.parse(CreateSubscriptionResponse, body);
      assert.equal(body.status, 'active');
      const sub = body.subscription;
      const now = server.clock.now();
      const end = '2026-04-01T10:00:00.000Z'; // the clock starts at 1 March 10:00
      assert.equal(now.toISOString(), '2026-03-01T10:00:00.000Z');
      assert.deepEqual(
        { plan: sub.plan, status: sub.status, method: sub.method, card: sub.card, price: sub.price, start: sub.currentPeriodStart, end: sub.currentPeriodEnd, next: sub.nextBillingAt, cancel: sub.cancelAtPeriodEnd, trial: sub.trialEndsAt, pending: sub.pendingAction },
        { plan: 'gold-monthly', status: 'active', method: 'wallet', card: null, price: 499, start: now.toISOString(), end, next: end, cancel: false, trial: null, pending: null },
      );
      assert.equal(await balance(server, token), 1);
      assert.deepEqual(await access(server, token, ['article-42', 'article-43', 'big-report']), { 'article-42': end, 'article-43': end, 'big-report': null });
      assert.equal((await server.api('/v1/content/article-42', { token })).status, 200);
      const sent = await notifications(server, customerId);
      assert.deepEqual(types(sent), ['wallet.balance.changed', 'wallet.balance.changed', 'subscribe.success', 'access.granted', 'access.granted']);
      assert.deepEqual(sent[1]!.resource, { balance: 1, currency: 'EUR', delta: -499, reason: 'subscription' });
      const success = z.parse(SubscribeSuccessResource, sent[2]!.resource);
      assert.deepEqual([success.subscription, success.amount, success.renewal, success.currentPeriodEnd, success.method], [sub.id, 499, false, end, 'wallet']);

      // The same key answers the same subscription and charges nothing; another body is a conflict; a second subscription is refused.
      const again = await server.api('/v1/subscriptions', { token, body: { plan: 'gold-monthly', method: 'wallet', idempotencyKey: key } });
      assert.deepEqual([again.status, again.body.subscription.id], [200, sub.id]);
      const conflict = await server.api('/v1/subscriptions', { token, body: { plan: 'gold-yearly', method: 'wallet', idempotencyKey: key } });
      assert.deepEqual([conflict.status, conflict.body.error.code], [409, 'idempotency_conflict']);
      const second = await subscribe(token, { plan: 'gold-monthly', method: 'card' });
      assert.deepEqual([second.status, second.body.error.code], [409, 'subscription_exists']);
      assert.equal(await balance(server, token), 1);
      const listed = await server.api('/v1/subscriptions', { token });
      z.parse(SubscriptionsResponse, listed.body);
      assert.deepEqual(listed.body.subscriptions.map((s: any) => s.id), [sub.id]);
      assert.equal(listed.headers.get('cache-control'), 'private, no-store');
      assert.deepEqual(await charges(server, sub.id), [
        { period: 1, attempt: 1, status: 'succeeded', dueAt: now.toISOString(), failureCode: null },
        { period: 2, attempt: 1, status: 'scheduled', dueAt: end, failureCode: null },
      ]);
      assert.deepEqual(await audit(), []);
    });

    test('racing requests: one key sent five times subscribes once; five keys for one plan leave one subscription', async () => {
      const { token, customerId } = await server.signUp();
      await server.api('/v1/top-ups', { token, headers: { origin: server.url }, body: { amount: 6000, currency: 'EUR', card: { number: CARDS.plain, expMonth: 12, expYear: 2030, cvc: '123' }, idempotencyKey: idempotencyKey() } });
      const key = idempotencyKey();
      const same = await Promise.all(Array.from({ length: 5 }, () => server.api('/v1/subscriptions', { token, body: { plan: 'gold-monthly', method: 'wallet', idempotencyKey: key } })));
      assert.deepEqual(same.map((r) => r.status), [200, 200, 200, 200, 200]);
      assert.equal(new Set(same.map((r) => r.body.subscription.id)).size, 1);
      const different = await Promise.all(Array.from({ length: 5 }, () => subscribe(token, { plan: 'gold-yearly', method: 'wallet' })));
      assert.deepEqual(different.map((r) => r.status).sort(), [200, 409, 409, 409, 409]);
      assert.ok(different.filter((r) => r.status === 409).every((r) => r.body.error.code === 'subscription_exists'));
      assert.equal(await ledgerCount(server, customerId, 'subscription'), 2);
      assert.equal(await balance(server, token), 6500 - 499 - 4900);
      assert.deepEqual(await audit(), []);
    });

    test('wallet without enough balance: 402 with the missing amount and a top-up link, nothing written; the same key works after a top-up', async () => {
      const { token } = await server.signUp();
      const key = idempotencyKey();
      const poor = await server.api('/v1/subscriptions', { token, body: { plan: 'gold-yearly', method: 'wallet', idempotencyKey: key }, headers: { origin: MERCHANT } });
      assert.deepEqual([poor.status, poor.body.error.code, poor.body.error.missing], [402, 'insufficient_funds', 4400]);
      const topUpUrl = new URL(poor.body.error.topUpUrl);
      assert.deepEqual([topUpUrl.pathname, topUpUrl.searchParams.get('amount'), topUpUrl.searchParams.get('origin')], ['/hosted/top-up', '4400', MERCHANT]);
      assert.deepEqual(await subscriptionsOf(server, token), []);
      const topUp = await server.api('/v1/top-ups', { token, headers: { origin: server.url }, body: { amount: 4400, currency: 'EUR', card: { number: CARDS.plain, expMonth: 12, expYear: 2030, cvc: '123' }, idempotencyKey: idempotencyKey() } });
      assert.equal(topUp.status, 200);
      const retry = await server.api('/v1/subscriptions', { token, body: { plan: 'gold-yearly', method: 'wallet', idempotencyKey: key } });
      assert.deepEqual([retry.status, retry.body.status, retry.body.subscription.currentPeriodEnd], [200, 'active', '2027-03-01T10:00:00.000Z']);
      assert.equal(await balance(server, token), 0);
      assert.deepEqual(await audit(), []);
    });

    test('card without 3-D Secure: the hosted checkout activates the subscription and reports "subscribed" to the opener', async () => {
      const { token, customerId } = await server.signUp();
      const checkoutUrl = await cardCheckout(token, 'gold-monthly', { returnUrl: `${MERCHANT}/subscribe` });
      assert.equal(new URL(checkoutUrl).pathname, '/hosted/checkout');
      // Nothing exists before the card is entered.
      assert.deepEqual(await subscriptionsOf(server, token), []);
      const form = await openCheckout(server, checkoutUrl);
      assert.match(form.text, /<h1>Subscribe to Gold monthly<\/h1>/);
      assert.match(form.text, /€4\.99 per month, renewed automatically until you cancel\./);
      assert.match(form.text, /Includes: Night trains, The bakery\./);
      assert.match(form.text, /4000 0027 6000 3184 always does/);
      const done = await payCheckout(server, checkoutUrl, CARDS.plain);
      assert.equal(done.status, 200, done.text);
      const result = completion(done.text);
      assert.ok(result);
      assert.equal(result.targetOrigin, MERCHANT);
      assert.equal(result.returnUrl, `${MERCHANT}/subscribe`);
      assert.equal(result.message.type, 'subscribed');
      assert.match(done.text, /You now subscribe to Gold monthly\. The current period runs until 1 April 2026\./);
      assert.ok(!done.text.includes(CARDS.plain));
      const [sub] = await subscriptionsOf(server, token);
      assert.equal(sub.id, result.message.subscription);
      assert.deepEqual([sub.status, sub.method, sub.card, sub.currentPeriodEnd], ['active', 'card', { brand: 'visa', last4: '4242' }, '2026-04-01T10:00:00.000Z']);
      assert.equal(await balance(server, token), 500, 'the wallet is not touched');
      assert.equal(await ledgerCount(server, customerId, 'subscription'), 1);
      assert.deepEqual(types(await notifications(server, customerId)), ['wallet.balance.changed', 'subscribe.success', 'access.granted', 'access.granted']);
      // The card is kept as a token: brand, last four, expiry, behaviour — never the number or the code.
      const stored = await server.database.db.selectFrom('card_tokens').selectAll().where('customer_id', '=', customerId).execute();
      assert.equal(stored.length, 1);
      assert.ok(!JSON.stringify(stored).includes(CARDS.plain) && !JSON.stringify(stored).includes('"123"'));
      // Opening the used link again shows the result again and charges nothing.
      const reopened = await hostedGet(server, new URL(checkoutUrl).pathname + new URL(checkoutUrl).search);
      assert.equal(completion(reopened.text)?.message.type, 'subscribed');
      assert.equal(await ledgerCount(server, customerId, 'subscription'), 1);
      assert.deepEqual(await audit(), []);
    });

    test('card with 3-D Secure: incomplete, subscribe.requires.action and an email; approving on the bank page activates it without a confirm call', async () => {
      const { token, customerId } = await server.signUp();
      const checkoutUrl = await cardCheckout(token);
      const redirected = await payCheckout(server, checkoutUrl, CARDS.scaAlways);
      assert.equal(redirected.status, 303);
      assert.match(redirected.location ?? '', /^\/hosted\/3ds\?intent=pi_[0-9a-f]+&sig=[\w-]+/);
      const [incomplete] = await subscriptionsOf(server, token);
      assert.deepEqual([incomplete.status, incomplete.currentPeriodEnd, incomplete.nextBillingAt], ['incomplete', null, null]);
      assert.ok(incomplete.pendingAction);
      assert.equal(incomplete.pendingAction.expiresAt, new Date(server.clock.now().getTime() + DAY).toISOString());
      assert.deepEqual(await access(server, token, ['article-42']), { 'article-42': null });
      const sent = await notifications(server, customerId);
      assert.deepEqual(types(sent), ['wallet.balance.changed', 'subscribe.requires.action']);
      const action = z.parse(SubscribeRequiresActionResource, sent[1]!.resource);
      assert.equal(action.payment_intent, incomplete.pendingAction.paymentIntent);
      assert.equal(action.redirect_to_url, incomplete.pendingAction.redirectToUrl);
      assert.deepEqual([action.subscription, action.plan, action.amount, action.currency], [incomplete.id, 'gold-monthly', 499, 'EUR']);
      const [email] = await outbox(server, token);
      assert.equal(email!.kind, 'payment_action_required');
      assert.equal(email!.link, action.redirect_to_url);
      assert.match(email!.text, /within 24 hours/);

      const approved = await answerBank(server, action.redirect_to_url, 'approve');
      assert.equal(approved.status, 200);
      const result = completion(approved.text);
      assert.deepEqual(result?.message, { source: 'paywall-kit', type: 'subscribed', subscription: incomplete.id, paymentIntent: action.payment_intent });
      assert.equal(result?.targetOrigin, MERCHANT);
      const [active] = await subscriptionsOf(server, token);
      assert.deepEqual([active.status, active.pendingAction, active.currentPeriodEnd], ['active', null, '2026-04-01T10:00:00.000Z']);
      assert.deepEqual(types(await notifications(server, customerId)).slice(2), ['subscribe.success', 'access.granted', 'access.granted']);
      // Subscriptions need no confirm: confirming returns the intent as it is and charges nothing more.
      const confirm = await server.api(`/v1/payment-intents/${action.payment_intent}/confirm`, { token, method: 'POST' });
      assert.deepEqual([confirm.status, confirm.body.status, confirm.body.kind, confirm.body.subscription], [200, 'succeeded', 'subscription', incomplete.id]);
      // Answering the bank page again changes nothing.
      const twice = await hostedGet(server, action.redirect_to_url);
      assert.equal(completion(twice.text)?.message.type, 'subscribed');
      assert.equal(await ledgerCount(server, customerId, 'subscription'), 1);
      assert.deepEqual(await audit(), []);
    });

    test('3-D Secure failed: subscribe.failed with a message, no access, and the reader can try again', async () => {
      const { token, customerId } = await server.signUp();
      const redirected = await payCheckout(server, await cardCheckout(token, 'gold-yearly'), CARDS.scaFirst, 'de');
      const failed = await answerBank(server, redirected.location!, 'fail');
      const result = completion(failed.text);
      assert.equal(result?.message.type, 'payment-failed');
      assert.equal(result?.message.code, 'authentication_failed');
      assert.match(result?.message.message, /not confirmed/);
      assert.match(failed.text, /<html lang="de">/);
      const [sub] = await subscriptionsOf(server, token);
      assert.equal(sub.status, 'failed');
      assert.deepEqual(await access(server, token, ['article-42']), { 'article-42': null });
      const sent = await notifications(server, customerId);
      assert.deepEqual(types(sent).slice(1), ['subscribe.requires.action', 'subscribe.failed']);
      assert.equal(sent[2]!.resource.message, result?.message.message);
      assert.equal(await ledgerCount(server, customerId, 'subscription'), 0);
      // Trying again is a new subscription.
      server.clock.advance(1000);
      const again = await payCheckout(server, await cardCheckout(token, 'gold-yearly'), CARDS.plain);
      assert.equal(completion(again.text)?.message.type, 'subscribed');
      assert.deepEqual((await subscriptionsOf(server, token)).map((s) => s.status), ['active', 'failed']);
    });

    test('incomplete becomes incomplete_expired after 24 h and can never be activated', async () => {
      const { token } = await server.signUp();
      const redirected = await payCheckout(server, await cardCheckout(token), CARDS.scaAlways);
      server.clock.advance(DAY - 1);
      assert.equal((await subscriptionsOf(server, token))[0].status, 'incomplete');
      server.clock.advance(1);
      // Shown as expired at once, and stored so by the next tick.
      assert.equal((await subscriptionsOf(server, token))[0].status, 'incomplete_expired');
      const report = await server.services.billing.tick();
      assert.ok(report.expiredIntents >= 1);
      const [sub] = await subscriptionsOf(server, token);
      const row = await server.database.db.selectFrom('subscriptions').select('status').where('id', '=', sub.id).executeTakeFirstOrThrow();
      assert.deepEqual([sub.status, row.status, sub.pendingAction], ['incomplete_expired', 'incomplete_expired', null]);
      const late = await hostedGet(server, redirected.location!);
      assert.equal(late.status, 410);
      assert.match(alertText(late.text) ?? '', /expired/);
      assert.equal(completion(late.text), null);
      assert.deepEqual(await access(server, token, ['article-42']), { 'article-42': null });
    });

    test('an expired incomplete is refused on the bank page even before any tick ran', async () => {
      const { token } = await server.signUp();
      const redirected = await payCheckout(server, await cardCheckout(token), CARDS.scaAlways);
      const bank = await hostedGet(server, redirected.location!);
      const action = /<form method="post" action="([^"]*)"/.exec(bank.text)![1]!.replace(/&amp;/g, '&');
      server.clock.advance(DAY);
      const { hostedPost } = await import('./card-flows');
      const late = await hostedPost(server, action, { outcome: 'approve' });
      assert.equal(late.status, 410);
      assert.equal((await subscriptionsOf(server, token))[0].status, 'incomplete_expired');
      assert.deepEqual(await access(server, token, ['article-42']), { 'article-42': null });
    });

    test('cancel keeps access until the end of the paid period, then the subscription expires and access is revoked', async () => {
      const { token, customerId } = await server.signUp();
      const { body } = await subscribe(token, { plan: 'gold-monthly', method: 'wallet' });
      const id = body.subscription.id;
      const end = Date.parse(body.subscription.currentPeriodEnd);
      server.clock.advance(10 * DAY);
      const canceled = await server.api(`/v1/subscriptions/${id}`, { token, method: 'DELETE' });
      assert.equal(canceled.status, 200);
      const sub = canceled.body.subscription;
      assert.deepEqual([sub.status, sub.cancelAtPeriodEnd, sub.nextBillingAt, sub.currentPeriodEnd, sub.canceledAt], ['canceled', true, null, body.subscription.currentPeriodEnd, server.clock.now().toISOString()]);
      // Canceling twice is the same answer.
      const twice = await server.api(`/v1/subscriptions/${id}`, { token, method: 'DELETE' });
      assert.deepEqual([twice.status, twice.body.subscription.status], [200, 'canceled']);
      // Still subscribed to the plan: a new subscription waits until this one has ended.
      assert.equal((await subscribe(token, { plan: 'gold-monthly', method: 'wallet' })).body.error.code, 'subscription_exists');

      server.clock.set(new Date(end - 1));
      await server.services.billing.tick();
      assert.equal((await server.api('/v1/content/article-42', { token })).status, 200);
      assert.equal((await subscriptionsOf(server, token))[0].status, 'canceled');
      server.clock.set(new Date(end));
      const report = await server.services.billing.tick();
      assert.equal(report.charged, 0);
      assert.equal(report.ended, 1);
      const [expired] = await subscriptionsOf(server, token);
      assert.deepEqual([expired.status, expired.endedAt], ['expired', new Date(end).toISOString()]);
      assert.equal((await server.api('/v1/content/article-42', { token })).status, 402);
      assert.deepEqual(types(await notifications(server, customerId)).slice(-2), ['access.revoked', 'access.revoked']);
      assert.equal(await balance(server, token), 1, 'the next period was never charged');
      assert.equal(await ledgerCount(server, customerId, 'subscription'), 1);
      // Ended: the reader may subscribe again.
      await server.api('/v1/top-ups', { token, headers: { origin: server.url }, body: { amount: 500, currency: 'EUR', card: { number: CARDS.plain, expMonth: 12, expYear: 2030, cvc: '123' }, idempotencyKey: idempotencyKey() } });
      assert.equal((await subscribe(token, { plan: 'gold-monthly', method: 'wallet' })).body.status, 'active');
    });

    test("cancel: an incomplete one can never be activated; someone else's is not found", async () => {
      const { token } = await server.signUp();
      const redirected = await payCheckout(server, await cardCheckout(token), CARDS.scaAlways);
      const [incomplete] = await subscriptionsOf(server, token);
      const other = await server.signUp();
      const foreign = await server.api(`/v1/subscriptions/${incomplete.id}`, { token: other.token, method: 'DELETE' });
      assert.deepEqual([foreign.status, foreign.body.error.code], [404, 'subscription_not_found']);
      const canceled = await server.api(`/v1/subscriptions/${incomplete.id}`, { token, method: 'DELETE' });
      assert.equal(canceled.body.subscription.status, 'incomplete_expired');
      assert.equal((await hostedGet(server, redirected.location!)).status, 410);
      const unknown = await server.api('/v1/subscriptions/sub_nothing', { token, method: 'DELETE' });
      assert.equal(unknown.status, 404);
    });

    test('a new checkout supersedes an abandoned incomplete subscription to the same plan', async () => {
      const { token } = await server.signUp();
      const abandoned = await payCheckout(server, await cardCheckout(token), CARDS.scaAlways);
      server.clock.advance(1000);
      const done = await payCheckout(server, await cardCheckout(token), CARDS.plain);
      assert.equal(completion(done.text)?.message.type, 'subscribed');
      assert.deepEqual((await subscriptionsOf(server, token)).map((s) => s.status), ['active', 'incomplete_expired']);
      assert.equal((await hostedGet(server, abandoned.location!)).status, 410);
    });

    test('a trial charges nothing at the start and charges the wallet when it ends', async () => {
      const { token, customerId } = await server.signUp();
      const { body } = await subscribe(token, { plan: 'trial-weekly', method: 'wallet' });
      const trialEnd = new Date(server.clock.now().getTime() + 14 * DAY).toISOString();
      assert.deepEqual([body.status, body.subscription.trialEndsAt, body.subscription.currentPeriodEnd, body.subscription.nextBillingAt], ['active', trialEnd, trialEnd, trialEnd]);
      assert.equal(await balance(server, token), 500);
      assert.deepEqual(await access(server, token, ['article-43']), { 'article-43': trialEnd });
      server.clock.set(trialEnd);
      await server.services.billing.tick();
      assert.equal(await balance(server, token), 301);
      const [sub] = await subscriptionsOf(server, token);
      const weekLater = new Date(Date.parse(trialEnd) + 7 * DAY).toISOString();
      assert.deepEqual([sub.status, sub.currentPeriodStart, sub.currentPeriodEnd, sub.nextBillingAt], ['active', trialEnd, weekLater, weekLater]);
      assert.equal(await ledgerCount(server, customerId, 'subscription'), 1);
    });

    test('the German checkout page', async () => {
      const { token } = await server.signUp();
      const de = await openCheckout(server, await cardCheckout(token, 'trial-weekly'), 'de');
      assert.match(de.text, /<html lang="de">/);
      assert.match(de.text, /<h1>Weekly with trial abonnieren<\/h1>/);
      assert.match(de.text, /14 Tage kostenlos, danach 1,99\s€ pro Woche\./);
      assert.match(de.text, />Kostenlos testen<\/button>/);
      assert.match(de.text, /<label for="cardNumber">Kartennummer<\/label>/);
      assert.match(de.text, /lang="en" hreflang="en">English<\/a>/);
    });
  });
}
