import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../server/clock';
import { LEASE_MS } from '../../server/domain/billing-clock';
import { answerBank, balance, CARDS, charges, completion, hostedGet, ledgerCount, notifications, outbox, payCheckout, subscriptionsOf, types } from './card-flows';
import { databases, idempotencyKey, MERCHANT, OFFER_SECRET, startTestServer, testConfigFile, type TestServer } from './harness';

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

for (const database of databases) {
  describe(`billing clock on ${database.name}`, { skip: database.name === 'postgres' && !database.url ? 'DATABASE_URL is not set to a PostgreSQL URL' : false }, () => {
    let server: TestServer;
    // Retries 12 h apart, to show the interval is the config's.
    before(async () => (server = await startTestServer({ db: database.name, clock: new ManualClock('2026-01-31T10:00:00.000Z'), config: { billing: { retryIntervalHours: 12 } } })));
    after(() => server?.close());

    const topUp = (token: string, amount: number) =>
      server.api('/v1/top-ups', { token, headers: { origin: server.url }, body: { amount, currency: 'EUR', card: { number: CARDS.plain, expMonth: 12, expYear: 2030, cvc: '123' }, idempotencyKey: idempotencyKey() } });
    const walletSub = async (token: string, plan = 'gold-monthly') => {
      const { status, body } = await server.api('/v1/subscriptions', { token, body: { plan, method: 'wallet', idempotencyKey: idempotencyKey() } });
      assert.equal(status, 200, JSON.stringify(body));
      return body.subscription;
    };
    const cardSub = async (token: string, card: string, plan = 'gold-monthly') => {
      const { body } = await server.api('/v1/subscriptions', { token, body: { plan, method: 'card', idempotencyKey: idempotencyKey() }, headers: { origin: MERCHANT } });
      return payCheckout(server, body.checkoutUrl, card);
    };
    const tickAt = async (iso: string | number) => {
      server.clock.set(new Date(iso));
      return server.services.billing.tick();
    };
    // Months pass in these tests and sessions last 90 days: read through the services, as the reader would after signing in again.
    const subsOf = (customerId: string) => server.services.subscriptions.list(customerId);
    const walletOf = async (customerId: string) => (await server.services.ledger.wallet(server.database.db, customerId))!.balance;
    const contentStatus = async (token: string) => (await server.api('/v1/content/article-42', { token })).status;
    const audit = () => server.services.ledger.audit(server.database.db);

    test('monthly renewals land on the same day, and 31 January renews on 3 March, 31 March, 1 May', async () => {
      server.clock.set('2026-01-31T10:00:00.000Z');
      const { token, customerId } = await server.signUp();
      await topUp(token, 2000);
      const sub = await walletSub(token);
      assert.equal(sub.currentPeriodEnd, '2026-03-03T10:00:00.000Z');
      await tickAt('2026-03-03T09:59:59.999Z');
      assert.equal(await walletOf(customerId), 2001);
      await tickAt('2026-03-03T10:00:00.000Z');
      let current = (await subsOf(customerId))[0]!;
      assert.deepEqual([current.status, current.currentPeriodStart, current.currentPeriodEnd, current.nextBillingAt], ['active', '2026-03-03T10:00:00.000Z', '2026-03-31T10:00:00.000Z', '2026-03-31T10:00:00.000Z']);
      assert.equal(await walletOf(customerId), 1502);
      // Ticking again at the same time charges nothing more.
      await server.services.billing.tick();
      assert.equal(await walletOf(customerId), 1502);
      await tickAt('2026-03-31T10:00:00.000Z');
      await tickAt('2026-05-01T10:00:00.000Z');
      current = (await subsOf(customerId))[0]!;
      assert.equal(current.currentPeriodEnd, '2026-05-31T10:00:00.000Z');
      assert.deepEqual((await charges(server, sub.id)).map((c) => [c.period, c.attempt, c.status, c.dueAt]), [
        [1, 1, 'succeeded', '2026-01-31T10:00:00.000Z'],
        [2, 1, 'succeeded', '2026-03-03T10:00:00.000Z'],
        [3, 1, 'succeeded', '2026-03-31T10:00:00.000Z'],
        [4, 1, 'succeeded', '2026-05-01T10:00:00.000Z'],
        [5, 1, 'scheduled', '2026-05-31T10:00:00.000Z'],
      ]);
      assert.equal(await ledgerCount(server, customerId, 'subscription'), 4);
      // Each renewal says so and moves access to the new period end.
      const renewals = (await notifications(server, customerId)).filter((n) => n.type === 'subscribe.success');
      assert.deepEqual(renewals.map((n) => [n.resource.renewal, n.resource.currentPeriodEnd]), [
        [false, '2026-03-03T10:00:00.000Z'], [true, '2026-03-31T10:00:00.000Z'], [true, '2026-05-01T10:00:00.000Z'], [true, '2026-05-31T10:00:00.000Z'],
      ]);
      const [grant] = await server.services.entitlements.check(customerId, ['article-42']);
      assert.equal(grant!.expiresAt, '2026-05-31T10:00:00.000Z');
      await server.services.subscriptions.cancel(customerId, sub.id);
      assert.deepEqual(await audit(), []);
    });

    test('a failed renewal is retried twice at the configured interval, keeping access; then the subscription fails and access is revoked', async () => {
      server.clock.set('2026-06-10T00:00:00.000Z');
      const { token, customerId } = await server.signUp();
      const sub = await walletSub(token); // 500 start credit - 499: one cent left for the renewal
      const renewal = Date.parse(sub.currentPeriodEnd);
      await tickAt(renewal);
      let [current] = await subscriptionsOf(server, token);
      assert.deepEqual([current.status, current.nextBillingAt], ['past_due', new Date(renewal + 12 * HOUR).toISOString()]);
      assert.equal(await contentStatus(token), 200, 'access continues while retrying');
      const [email] = await outbox(server, token);
      assert.equal(email!.kind, 'renewal_failed');
      assert.match(email!.text, /We will try again on/);
      assert.equal(new URL(email!.link!).pathname, '/hosted/top-up');
      // Nothing happens between attempts.
      await tickAt(renewal + 12 * HOUR - 1);
      assert.equal((await charges(server, sub.id)).filter((c) => c.status === 'failed').length, 1);
      await tickAt(renewal + 12 * HOUR);
      [current] = await subscriptionsOf(server, token);
      assert.deepEqual([current.status, current.nextBillingAt], ['past_due', new Date(renewal + 24 * HOUR).toISOString()]);
      await tickAt(renewal + 24 * HOUR);
      [current] = await subscriptionsOf(server, token);
      assert.deepEqual([current.status, current.nextBillingAt, current.endedAt], ['failed', null, new Date(renewal + 24 * HOUR).toISOString()]);
      assert.equal(await contentStatus(token), 402);
      const sent = await notifications(server, customerId);
      assert.deepEqual(types(sent).slice(-3), ['subscribe.failed', 'access.revoked', 'access.revoked']);
      assert.equal(sent.at(-3)!.resource.reason, 'insufficient_funds');
      assert.match(String(sent.at(-3)!.resource.message), /failed 3 times/);
      assert.deepEqual((await charges(server, sub.id)).map((c) => [c.period, c.attempt, c.status, c.failureCode]), [
        [1, 1, 'succeeded', null], [2, 1, 'failed', 'insufficient_funds'], [2, 2, 'failed', 'insufficient_funds'], [2, 3, 'failed', 'insufficient_funds'],
      ]);
      assert.deepEqual((await outbox(server, token)).map((e) => e.kind), ['renewal_failed', 'renewal_failed', 'subscription_failed']);
      // Nothing more is ever tried.
      await tickAt(renewal + 60 * DAY);
      assert.equal((await charges(server, sub.id)).length, 4);
      assert.equal(await walletOf(customerId), 1);
      assert.deepEqual(await audit(), []);
    });

    test('a retry that succeeds (after a top-up) keeps the calendar: the period still ends one month after the renewal date', async () => {
      server.clock.set('2026-07-31T12:00:00.000Z');
      const { token } = await server.signUp();
      const sub = await walletSub(token);
      assert.equal(sub.currentPeriodEnd, '2026-08-31T12:00:00.000Z');
      await tickAt('2026-08-31T12:00:00.000Z');
      await topUp(token, 1000);
      await tickAt(Date.parse('2026-08-31T12:00:00.000Z') + 12 * HOUR);
      const [current] = await subscriptionsOf(server, token);
      assert.deepEqual([current.status, current.currentPeriodEnd, current.nextBillingAt], ['active', '2026-10-01T12:00:00.000Z', '2026-10-01T12:00:00.000Z']);
      assert.deepEqual((await charges(server, sub.id)).map((c) => [c.period, c.attempt, c.status]), [[1, 1, 'succeeded'], [2, 1, 'failed'], [2, 2, 'succeeded'], [3, 1, 'scheduled']]);
      await server.api(`/v1/subscriptions/${sub.id}`, { token, method: 'DELETE' });
    });

    test('4000 0000 0000 0341 is accepted at sign-up and declined at every renewal', async () => {
      server.clock.set('2026-09-01T09:00:00.000Z');
      const { token } = await server.signUp();
      const done = await cardSub(token, CARDS.declineRenewals);
      assert.equal(completion(done.text)?.message.type, 'subscribed');
      const [sub] = await subscriptionsOf(server, token);
      const renewal = Date.parse(sub.currentPeriodEnd);
      for (const at of [renewal, renewal + 12 * HOUR, renewal + 24 * HOUR]) await tickAt(at);
      const [current] = await subscriptionsOf(server, token);
      assert.equal(current.status, 'failed');
      assert.deepEqual((await charges(server, sub.id)).map((c) => [c.attempt, c.status, c.failureCode]).slice(1), [[1, 'failed', 'card_declined'], [2, 'failed', 'card_declined'], [3, 'failed', 'card_declined']]);
    });

    test('4000 0025 0000 3155 asks for 3-D Secure on the first payment only: the renewal goes through', async () => {
      server.clock.set('2026-10-05T09:00:00.000Z');
      const { token, customerId } = await server.signUp();
      const redirected = await cardSub(token, CARDS.scaFirst);
      assert.equal(redirected.status, 303);
      await answerBank(server, redirected.location!, 'approve');
      const [sub] = await subscriptionsOf(server, token);
      assert.equal(sub.status, 'active');
      await tickAt(sub.currentPeriodEnd);
      const [renewed] = await subscriptionsOf(server, token);
      assert.deepEqual([renewed.status, renewed.currentPeriodEnd], ['active', '2026-12-05T09:00:00.000Z']);
      assert.equal(await ledgerCount(server, customerId, 'subscription'), 2);
      await server.api(`/v1/subscriptions/${sub.id}`, { token, method: 'DELETE' });
    });

    test('off-session 3-D Secure at renewal: past due, an email with a link to the hosted page, and completing it activates the subscription', async () => {
      server.clock.set('2026-11-02T09:00:00.000Z');
      const { token, customerId } = await server.signUp();
      await answerBank(server, (await cardSub(token, CARDS.scaAlways)).location!, 'approve');
      const [sub] = await subscriptionsOf(server, token);
      const renewal = Date.parse(sub.currentPeriodEnd);
      const before = (await notifications(server, customerId)).length;
      await tickAt(renewal);
      const [pastDue] = await subscriptionsOf(server, token);
      assert.equal(pastDue.status, 'past_due');
      assert.ok(pastDue.pendingAction);
      assert.equal(await contentStatus(token), 200, 'access continues while the reader is asked');
      // The reader is not on the page: no requires.action message, an email instead.
      assert.ok(!types((await notifications(server, customerId)).slice(before)).includes('subscribe.requires.action'));
      const email = (await outbox(server, token)).at(-1)!;
      assert.equal(email.kind, 'renewal_action_required');
      assert.equal(email.link, pastDue.pendingAction.redirectToUrl);
      assert.match(email.text, /Confirm it here/);

      server.clock.advance(3 * HOUR);
      const done = await answerBank(server, email.link!, 'approve');
      assert.equal(done.status, 200);
      assert.match(done.text, /the payment is made and your subscription to Gold monthly runs until 2 January 2027/);
      assert.equal(completion(done.text)?.targetOrigin, undefined, 'opened from an email: nobody to post to');
      const [active] = await subscriptionsOf(server, token);
      assert.deepEqual([active.status, active.pendingAction, active.currentPeriodEnd, active.nextBillingAt], ['active', null, '2027-01-02T09:00:00.000Z', '2027-01-02T09:00:00.000Z']);
      const sent = types((await notifications(server, customerId)).slice(before));
      assert.deepEqual(sent.slice(-3), ['subscribe.success', 'access.granted', 'access.granted']);
      // The retry that was waiting is dropped: nothing is charged at its time.
      await tickAt(renewal + 12 * HOUR);
      assert.equal(await ledgerCount(server, customerId, 'subscription'), 2);
      assert.deepEqual((await charges(server, sub.id)).map((c) => [c.period, c.attempt, c.status]), [[1, 1, 'succeeded'], [2, 1, 'succeeded'], [2, 2, 'canceled'], [3, 1, 'scheduled']]);
      await server.api(`/v1/subscriptions/${sub.id}`, { token, method: 'DELETE' });
    });

    test('the first charge after a trial is off-session too: 3-D Secure by email, then active', async () => {
      server.clock.set('2026-12-01T09:00:00.000Z');
      const { token } = await server.signUp();
      const started = await cardSub(token, CARDS.scaFirst, 'trial-weekly');
      assert.equal(completion(started.text)?.message.type, 'subscribed', 'no payment, so no 3-D Secure at sign-up');
      const [trial] = await subscriptionsOf(server, token);
      await tickAt(trial.trialEndsAt);
      const [pastDue] = await subscriptionsOf(server, token);
      assert.equal(pastDue.status, 'past_due');
      await answerBank(server, (await outbox(server, token)).at(-1)!.link!, 'approve');
      const [active] = await subscriptionsOf(server, token);
      assert.deepEqual([active.status, active.currentPeriodEnd], ['active', new Date(Date.parse(trial.trialEndsAt) + 7 * DAY).toISOString()]);
      await server.api(`/v1/subscriptions/${trial.id}`, { token, method: 'DELETE' });
    });

    test('an off-session payment never confirmed: the retries count, then the subscription fails and the link has expired', async () => {
      server.clock.set('2027-01-04T09:00:00.000Z');
      const { token } = await server.signUp();
      await answerBank(server, (await cardSub(token, CARDS.scaAlways)).location!, 'approve');
      const [sub] = await subscriptionsOf(server, token);
      const renewal = Date.parse(sub.currentPeriodEnd);
      await tickAt(renewal);
      const link = (await outbox(server, token)).at(-1)!.link!;
      await tickAt(renewal + 12 * HOUR);
      await tickAt(renewal + 24 * HOUR);
      const [current] = await subscriptionsOf(server, token);
      assert.equal(current.status, 'failed');
      assert.deepEqual((await charges(server, sub.id)).slice(1).map((c) => [c.attempt, c.status, c.failureCode]), [[1, 'failed', 'authentication_expired'], [2, 'failed', 'authentication_required'], [3, 'failed', 'authentication_required']]);
      assert.equal((await hostedGet(server, link)).status, 410);
      assert.equal(await contentStatus(token), 402);
    });

    test('overlapping ticks charge each due period exactly once', async () => {
      server.clock.set('2027-02-01T09:00:00.000Z');
      const readers = await Promise.all(Array.from({ length: 12 }, () => server.signUp()));
      for (const { token } of readers) await walletSub(token, 'gold-monthly');
      server.clock.set('2027-03-01T09:00:00.000Z');
      const reports = await Promise.all([server.services.billing.tick(), server.services.billing.tick(), server.services.billing.tick()]);
      assert.equal(reports.reduce((sum, r) => sum + r.charged, 0), 12);
      for (const { token, customerId } of readers) {
        assert.equal(await ledgerCount(server, customerId, 'subscription'), 1, 'the renewal failed once for lack of funds and was charged once');
        const [sub] = await subscriptionsOf(server, token);
        assert.deepEqual((await charges(server, sub.id)).map((c) => [c.period, c.attempt, c.status]), [[1, 1, 'succeeded'], [2, 1, 'failed'], [2, 2, 'scheduled']]);
        await server.api(`/v1/subscriptions/${sub.id}`, { token, method: 'DELETE' });
      }
      assert.deepEqual(await audit(), []);
    });

    test('a tick that dies mid-run charges nothing; its claimed charge is taken over once the lease runs out, and charged once', async () => {
      server.clock.set('2027-04-01T09:00:00.000Z');
      const { token, customerId } = await server.signUp();
      await topUp(token, 1000);
      const sub = await walletSub(token);
      const renewal = Date.parse(sub.currentPeriodEnd);
      server.clock.set(new Date(renewal));

      // 1. A process crashed after claiming the charge: its lease blocks others until it runs out.
      await server.database.db.updateTable('billing_charges').set({ lease_owner: 'crashed-host:1:x#1', lease_until: renewal + LEASE_MS }).where('subscription_id', '=', sub.id).where('status', '=', 'scheduled').execute();
      assert.equal((await server.services.billing.tick()).charged, 0);
      assert.equal(await balance(server, token), 1001);

      // 2. This process fails in the middle of the charge's transaction: everything it wrote is rolled back.
      server.clock.advance(LEASE_MS);
      const lifecycle = server.services.lifecycle;
      const original = lifecycle.periodPaid;
      lifecycle.periodPaid = async () => {
        throw new Error('simulated crash after the ledger posting');
      };
      try {
        assert.equal((await server.services.billing.tick()).charged, 0);
      } finally {
        lifecycle.periodPaid = original;
      }
      assert.equal(await balance(server, token), 1001, 'the ledger posting was rolled back');
      assert.equal(await ledgerCount(server, customerId, 'subscription'), 1);
      // Its own lease holds the charge until it runs out, as after a restart.
      assert.equal((await server.services.billing.tick()).charged, 0);
      server.clock.advance(LEASE_MS);
      assert.equal((await server.services.billing.tick()).charged, 1);
      assert.equal(await balance(server, token), 502);
      assert.equal((await server.services.billing.tick()).charged, 0);
      assert.equal(await ledgerCount(server, customerId, 'subscription'), 2);
      assert.deepEqual((await charges(server, sub.id)).map((c) => [c.period, c.status]), [[1, 'succeeded'], [2, 'succeeded'], [3, 'scheduled']]);
      await server.api(`/v1/subscriptions/${sub.id}`, { token, method: 'DELETE' });
      assert.deepEqual(await audit(), []);
    });

    test('two server instances and cron runs of `npm run billing:tick` on one database charge each period once', async (t) => {
      server.clock.set('2027-06-01T09:00:00.000Z');
      const readers = await Promise.all(Array.from({ length: 24 }, () => server.signUp()));
      for (const { token } of readers) {
        await topUp(token, 500);
        await walletSub(token, 'gold-monthly');
      }
      const renewal = new Date('2027-07-01T09:00:00.000Z');
      server.clock.set(renewal);
      // PostgreSQL serves two in-process instances; SQLite is one file per machine, so its second instances are processes.
      const second = database.name === 'postgres' ? await startTestServer({ sameDatabaseAs: server, clock: server.clock }) : null;
      try {
        const dir = mkdtempSync(join(tmpdir(), 'paywall-cron-'));
        const file = testConfigFile();
        file.catalog.products = file.catalog.products.map((p: any) => (p.content ? { ...p, content: join(ROOT, p.content) } : p));
        const location = server.database.location;
        writeFileSync(join(dir, 'paywall.config.json'), JSON.stringify({ ...file, ...('sqlitePath' in location ? { database: { sqlitePath: location.sqlitePath } } : {}) }));
        const args = ['--import', 'tsx', join(ROOT, 'server/cli/billing-tick.ts'), '--config', join(dir, 'paywall.config.json'), '--now', renewal.toISOString(),
          ...('databaseUrl' in location ? ['--database-url', location.databaseUrl, '--schema', location.schema] : [])];
        const env = { ...process.env, PAYWALL_OFFER_SECRET: OFFER_SECRET, DATABASE_URL: '', LOG_LEVEL: 'debug' };
        let started!: () => void;
        const firstStarted = new Promise<void>((resolve) => (started = resolve));
        const cron = () => new Promise<{ charged: number }>((resolve, reject) => {
          const child = spawn(process.execPath, args, { cwd: ROOT, env });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (chunk) => (stdout += chunk));
          child.stderr.on('data', (chunk) => {
            stderr += chunk;
            if (stderr.includes('billing tick started')) started();
          });
          child.on('error', reject);
          child.on('close', (code) => (code === 0 ? resolve(JSON.parse(stdout.trim().split('\n').at(-1)!)) : reject(new Error(`billing:tick exited ${code}: ${stderr}`))));
        });
        // Three cron processes and the server instances race for the same due charges: the servers
        // start as soon as the first process has begun its tick (how the work splits varies; the total may not).
        const results = await Promise.all([cron(), cron(), cron(), ...[server, second].map(async (instance) => {
          if (!instance) return { charged: 0 };
          await firstStarted;
          return instance.services.billing.tick();
        })]);
        assert.equal(results.reduce((sum, r) => sum + r.charged, 0), 24, JSON.stringify(results));
        t.diagnostic(`charges taken by each runner: ${results.map((r) => r.charged).join(', ')}`);
        for (const { token, customerId } of readers) {
          assert.equal(await ledgerCount(server, customerId, 'subscription'), 2);
          assert.equal(await balance(server, token), 2);
          const [sub] = await subscriptionsOf(server, token);
          assert.deepEqual((await charges(server, sub.id)).map((c) => [c.period, c.attempt, c.status]), [[1, 1, 'succeeded'], [2, 1, 'succeeded'], [3, 1, 'scheduled']]);
        }
        assert.deepEqual(await audit(), []);
      } finally {
        await second?.close();
      }
    });

    test('yearly from 29 February renews on 1 March in common years', async () => {
      server.clock.set('2028-02-29T08:00:00.000Z');
      const { token, customerId } = await server.signUp();
      await topUp(token, 10_000);
      const sub = await walletSub(token, 'gold-yearly');
      assert.equal(sub.currentPeriodEnd, '2029-03-01T08:00:00.000Z');
      await tickAt('2029-03-01T08:00:00.000Z');
      const [current] = await subsOf(customerId);
      assert.deepEqual([current!.currentPeriodStart, current!.currentPeriodEnd], ['2029-03-01T08:00:00.000Z', '2030-03-01T08:00:00.000Z']);
      assert.equal(await walletOf(customerId), 10_500 - 2 * 4900);
      await server.services.subscriptions.cancel(customerId, sub.id);
    });
  });
}

describe('billing clock inside the server', () => {
  test('startServer runs the clock on its interval and stops it on close', async () => {
    const clock = new ManualClock('2026-03-01T10:00:00.000Z');
    const server = await startTestServer({ clock, billingRunner: true, config: { billing: { tickSeconds: 0.02 } } });
    try {
      const { token } = await server.signUp();
      await server.api('/v1/subscriptions', { token, body: { plan: 'gold-monthly', method: 'wallet', idempotencyKey: idempotencyKey() } });
      clock.set('2026-04-01T10:00:00.000Z');
      // Wait for the runner's own tick (no assertion on how long it takes).
      for (let i = 0; i < 500; i++) {
        const [sub] = await subscriptionsOf(server, token);
        if (sub.status === 'past_due') break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal((await subscriptionsOf(server, token))[0].status, 'past_due');
    } finally {
      await server.close();
    }
  });

  test('`npm run billing:tick -- --help` explains itself; a bad --now is refused', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'server/cli/billing-tick.ts', '--help'], { cwd: ROOT });
    assert.match(stdout, /Runs the billing clock once/);
    await assert.rejects(run(process.execPath, ['--import', 'tsx', 'server/cli/billing-tick.ts', '--now', 'yesterday'], { cwd: ROOT }), /--now must be an ISO-8601 time/);
  });
});
