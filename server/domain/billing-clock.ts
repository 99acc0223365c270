import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import type { ServerConfig } from '../config';
import type { NotificationStore, PendingNotification } from '../notifications/notification-store';
import type { DatabaseHandle } from '../store/connect';
import type { Database } from '../store/schema';
import type { PaymentIntentService } from './payment-intents';
import type { HostedUrls } from './hosted-urls';
import type { PaymentLinks } from './payment-links';
import { MAX_ATTEMPTS, type Collected, type SubscriptionLifecycle } from './subscription-lifecycle';
import { newId } from './tokens';
import { writeTransaction } from './write-transaction';

/**
 * How long a tick owns a charge it claimed. A tick that dies mid-run (crash, restart, lost
 * connection) leaves its claimed charges untouched in the database — each charge is taken in one
 * transaction — and any tick takes them over once the lease has run out.
 */
export const LEASE_MS = 5 * 60 * 1000;
const BATCH = 100;

type Outcome = 'succeeded' | 'failed' | 'requires_action' | 'ended' | 'skipped';

export interface TickReport {
  /** Charges this tick processed (claimed and decided). */
  charged: number;
  failed: number;
  requiresAction: number;
  /** Subscriptions that ended: failed for good, or canceled and past their period. */
  ended: number;
  /** Payment intents (and their incomplete subscriptions) whose time ran out. */
  expiredIntents: number;
}

/**
 * The billing clock. Each tick, at the injected time:
 * 1. payment intents past their 24 h are canceled; a subscription still waiting for one becomes `incomplete_expired`;
 * 2. canceled subscriptions past their paid period become `expired` (access revoked);
 * 3. every due charge is claimed and charged, exactly once.
 *
 * Exactly once, with overlapping ticks and any number of server processes or cron runs: a charge
 * is one row per (subscription, period, attempt) under a unique key; a tick claims a due row
 * with one conditional UPDATE (only if it is still scheduled and nobody holds an unexpired
 * lease), then charges it and writes the outcome, the subscription, the next row, access and
 * notifications in one transaction that only commits while the row is still scheduled. With a
 * real processor the charge id is its idempotency key, so a takeover after a crash cannot charge twice.
 */
export class BillingClock {
  /** Names this process and clock object in the leases it writes; each tick adds its number. */
  readonly instance = `${hostname()}:${process.pid}:${newId('tick').slice(5, 17)}`;
  #ticks = 0;

  constructor(
    private readonly database: DatabaseHandle,
    private readonly config: ServerConfig,
    private readonly clock: Clock,
    private readonly lifecycle: SubscriptionLifecycle,
    private readonly payments: PaymentIntentService,
    private readonly notifications: NotificationStore,
    private readonly urls: HostedUrls,
    private readonly links: PaymentLinks,
    private readonly logger: Logger,
  ) {}

  async tick(now: Date = this.clock.now()): Promise<TickReport> {
    const report: TickReport = { charged: 0, failed: 0, requiresAction: 0, ended: 0, expiredIntents: 0 };
    const owner = `${this.instance}#${++this.#ticks}`;
    this.logger.debug({ owner, at: now.toISOString() }, 'billing tick started');
    await this.#expireIntents(now, report);
    await this.#endCanceled(now, report);
    await this.#chargeDue(owner, now, report);
    if (report.charged || report.ended || report.expiredIntents) this.logger.info({ ...report, at: now.toISOString() }, 'billing tick');
    return report;
  }

  async #expireIntents(now: Date, report: TickReport): Promise<void> {
    const { db } = this.database;
    const stale = await db.selectFrom('payment_intents').select('id').where('status', 'in', ['requires_action', 'requires_confirmation']).where('expires_at', '<=', now.getTime()).orderBy('expires_at').limit(1000).execute();
    for (const { id } of stale) {
      if (await this.#safely('expire intent', id, () => this.payments.expire(id))) report.expiredIntents++;
    }
  }

  async #endCanceled(now: Date, report: TickReport): Promise<void> {
    const { db } = this.database;
    const due = await db.selectFrom('subscriptions').select('id').where('status', '=', 'canceled').where('access_until', '<=', now.getTime()).limit(1000).execute();
    for (const { id } of due) {
      const ended = await this.#safely('end canceled subscription', id, async () => {
        const result = await writeTransaction(this.database, async (trx) => {
          const sub = await this.lifecycle.lock(trx, id);
          if (sub?.status !== 'canceled' || Number(sub.access_until) > now.getTime()) return null;
          const { pending } = await this.lifecycle.end(trx, sub, 'expired', now, 'subscription_ended');
          return this.notifications.append(trx, pending, now);
        });
        if (result) this.notifications.publish(result);
        return result !== null;
      });
      if (ended) report.ended++;
    }
  }

  async #chargeDue(owner: string, now: Date, report: TickReport): Promise<void> {
    const { db } = this.database;
    const at = now.getTime();
    for (;;) {
      const due = await db.selectFrom('billing_charges').select('id')
        .where('status', '=', 'scheduled').where('due_at', '<=', at)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', at)]))
        .orderBy('due_at').orderBy('id').limit(BATCH).execute();
      if (!due.length) return;
      for (const { id } of due) {
        if (!(await this.#claim(owner, id, at))) continue;
        // A charge that throws keeps its lease: it is retried by a later tick once the lease runs out.
        const outcome = await this.#safely('charge', id, () => this.#process(owner, id, now));
        if (outcome === 'succeeded') report.charged++;
        else if (outcome === 'failed' || outcome === 'ended') {
          report.charged++;
          report.failed++;
          if (outcome === 'ended') report.ended++;
        } else if (outcome === 'requires_action') {
          report.charged++;
          report.requiresAction++;
        }
      }
    }
  }

  /** One conditional UPDATE: true when this tick now holds the charge. */
  async #claim(owner: string, id: string, at: number): Promise<boolean> {
    const result = await this.database.db.updateTable('billing_charges')
      .set({ lease_owner: owner, lease_until: at + LEASE_MS })
      .where('id', '=', id).where('status', '=', 'scheduled').where('due_at', '<=', at)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', at)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async #process(owner: string, id: string, now: Date): Promise<Outcome> {
    const result = await writeTransaction(this.database, async (trx) => {
      const decided = await this.#decide(trx, owner, id, now);
      return decided && { outcome: decided.outcome, written: await this.notifications.append(trx, decided.pending, now) };
    });
    if (!result) return 'skipped';
    this.notifications.publish(result.written);
    return result.outcome;
  }

  /** Charges one claimed row and writes everything that follows from the outcome, inside `trx`. */
  async #decide(trx: Kysely<Database>, owner: string, id: string, now: Date): Promise<{ outcome: Outcome; pending: PendingNotification[] } | null> {
    const at = now.getTime();
    const retryMs = this.config.billing.retryIntervalMs;
    const head = await trx.selectFrom('billing_charges').select('subscription_id').where('id', '=', id).executeTakeFirst();
    if (!head) return null;
    const sub = await this.lifecycle.lock(trx, head.subscription_id);
    const charge = await trx.selectFrom('billing_charges').selectAll()
      .where('id', '=', id).where('status', '=', 'scheduled').where('lease_owner', '=', owner)
      .$if(this.database.dialect === 'postgres', (q) => q.forUpdate()).executeTakeFirst();
    // Taken over by another tick after this one's lease ran out, or already decided.
    if (!charge) return null;
    const period = Number(charge.period);
    const attempt = Number(charge.attempt);
    if (!sub || (sub.status !== 'active' && sub.status !== 'past_due') || period !== Number(sub.current_period) + 1) {
      await trx.updateTable('billing_charges').set({ status: 'canceled', processed_at: at }).where('id', '=', id).execute();
      return { outcome: 'skipped' as const, pending: [] };
    }
    const final = attempt >= MAX_ATTEMPTS;
    // A renewal already waiting for the reader's 3-D Secure is not asked for again: the attempt counts as failed.
    const waiting = sub.method === 'card' ? await this.lifecycle.openIntent(trx, sub.id, now) : undefined;
    const collected: Collected = waiting
      ? { result: 'declined', code: 'authentication_required', message: 'The payment is waiting for you to confirm it with your bank.' }
      : await this.lifecycle.collect(trx, sub, { offSession: true, now });
    const pending: PendingNotification[] = [];

    if (collected.result === 'succeeded') {
      await trx.updateTable('billing_charges').set({ status: 'succeeded', transaction_id: collected.transactionId, processed_at: at }).where('id', '=', id).execute();
      const paid = await this.lifecycle.periodPaid(trx, sub, period, { now, paymentIntent: null, renewal: true });
      pending.push(...collected.pending, ...paid.pending);
      return { outcome: 'succeeded' as const, pending };
    }

    const amount = `${sub.currency} ${(Number(sub.price) / 100).toFixed(2)}`;
    if (final) {
      const message = collected.result === 'declined' ? collected.message : 'The payment needed confirming with the bank (3-D Secure).';
      const code = collected.result === 'declined' ? collected.code : 'authentication_required';
      await trx.updateTable('billing_charges').set({ status: 'failed', failure_code: code, failure_message: message, processed_at: at }).where('id', '=', id).execute();
      const ended = await this.lifecycle.end(trx, sub, 'failed', now, 'subscription_failed');
      pending.push(this.lifecycle.failedNotification(sub, { reason: code, message: `The subscription stopped: the payment failed ${MAX_ATTEMPTS} times. ${message}`, paymentIntent: null }), ...ended.pending);
      await this.lifecycle.email(trx, sub.customer_id, 'subscription_failed', `Your subscription to ${sub.title} has stopped`,
        `We tried ${MAX_ATTEMPTS} times to charge ${amount} for ${sub.title} and could not: ${message}\nYour access has ended. You can subscribe again at any time.`, null, now);
      return { outcome: 'ended' as const, pending };
    }

    // Not the last attempt: past due, retried after the interval, access kept until then.
    const retryAt = at + retryMs;
    await trx.updateTable('subscriptions').set({ status: 'past_due', updated_at: at }).where('id', '=', sub.id).execute();
    const pastDue = { ...sub, status: 'past_due' as const };
    await this.lifecycle.schedule(trx, pastDue, period, attempt + 1, retryAt, now);
    pending.push(...(await this.lifecycle.grantAccess(trx, pastDue, retryAt, now)));

    if (collected.result === 'requires_action') {
      // Off-session 3-D Secure: no socket message would reach a reader who is not there; an email does.
      const lastRetryAt = at + (MAX_ATTEMPTS - attempt) * retryMs;
      const intent = await this.lifecycle.createIntent(trx, {
        customer_id: sub.customer_id, kind: 'renewal', status: 'requires_action', amount: Number(sub.price), currency: sub.currency, card_token_id: sub.card_token_id!,
        checkout_id: null, subscription_id: sub.id, charge_id: id, product: null, title: sub.title, validity: null, origin: null, return_url: null, expires_at: lastRetryAt, now,
      });
      await trx.updateTable('billing_charges').set({ status: 'requires_action', payment_intent_id: intent.id, processed_at: at }).where('id', '=', id).execute();
      const url = this.links.authenticationUrl(intent.id);
      await this.lifecycle.email(trx, sub.customer_id, 'renewal_action_required', `Confirm the payment for ${sub.title}`,
        `Your bank asks you to confirm the payment of ${amount} for your subscription to ${sub.title} (3-D Secure). Confirm it here: ${url}\nIf it is not confirmed by ${new Date(lastRetryAt).toUTCString()}, the subscription stops.`, url, now);
      return { outcome: 'requires_action' as const, pending };
    }

    await trx.updateTable('billing_charges').set({ status: 'failed', failure_code: collected.code, failure_message: collected.message, processed_at: at }).where('id', '=', id).execute();
    const link = sub.method === 'wallet' ? this.urls.page('top-up', undefined, { amount: String(sub.price), currency: sub.currency }) : null;
    await this.lifecycle.email(trx, sub.customer_id, 'renewal_failed', `The payment for ${sub.title} failed`,
      `We could not charge ${amount} for your subscription to ${sub.title}: ${collected.message}\nWe will try again on ${new Date(retryAt).toUTCString()}; you keep access until then.${link ? ` Top up your wallet: ${link}` : ''}`, link, now);
    return { outcome: 'failed' as const, pending };
  }

  async #safely<T>(what: string, id: string, work: () => Promise<T>): Promise<T | undefined> {
    try {
      return await work();
    } catch (error) {
      this.logger.error({ err: error, id }, `billing clock: ${what} failed`);
      return undefined;
    }
  }
}

/** Runs the billing clock every `intervalMs` inside the server; a tick still running is never overlapped here. */
export function startBillingRunner(billing: BillingClock, intervalMs: number, logger: Logger): { stop(): Promise<void> } {
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = billing.tick().catch((error) => logger.error({ err: error }, 'billing tick failed')).finally(() => (running = null));
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
