import type { Kysely } from 'kysely';
import type { PaymentIntent } from '../../src/protocol';
import type { Clock } from '../clock';
import { ApiError } from '../errors';
import type { NotificationStore, PendingNotification } from '../notifications/notification-store';
import { sandboxCharge } from '../providers/sandbox/sandbox-cards';
import type { DatabaseHandle } from '../store/connect';
import type { Database, IntentRow, SubscriptionRow } from '../store/schema';
import type { EntitlementStore } from './entitlements';
import type { PaymentLinks } from './payment-links';
import type { SubscriptionLifecycle } from './subscription-lifecycle';
import { writeTransaction } from './write-transaction';

type Trx = Kysely<Database>;

export const AUTHENTICATION_FAILED = 'The payment was not confirmed with the bank (3-D Secure). Nothing was charged. Try again or use another card.';

/**
 * Payment intents and their 3-D Secure step: the reader's `GET` and `confirm`, the hosted bank
 * page's approve or fail, expiry, and the charge that completes a one-off card payment.
 */
export class PaymentIntentService {
  constructor(
    private readonly database: DatabaseHandle,
    private readonly clock: Clock,
    private readonly lifecycle: SubscriptionLifecycle,
    private readonly entitlements: EntitlementStore,
    private readonly notifications: NotificationStore,
    private readonly links: PaymentLinks,
  ) {}

  async completePayment(trx: Trx, intent: IntentRow, token: { id: string; last4: string }, now: Date): Promise<{ expiresAt: number; pending: PendingNotification[] }> {
    const product = intent.product!;
    const amount = Number(intent.amount);
    const transactionId = await this.lifecycle.chargeCard(trx, { customerId: intent.customer_id, cardTokenId: token.id, last4: token.last4, amount, currency: intent.currency, kind: 'card_payment', reference: product, now });
    const expiresAt = await this.entitlements.grantFor(trx, intent.customer_id, product, Number(intent.validity ?? 0), now);
    await trx.updateTable('payment_intents').set({ status: 'succeeded', transaction_id: transactionId, entitlement_expires_at: expiresAt, updated_at: now.getTime() }).where('id', '=', intent.id).execute();
    return {
      expiresAt,
      pending: [
        { customerId: intent.customer_id, type: 'payment.card.success', resource: { status: 'success', code: 200, payment_intent: intent.id, product, amount, currency: intent.currency, expiresAt: new Date(expiresAt).toISOString() } },
        { customerId: intent.customer_id, type: 'access.granted', resource: { product, expiresAt: new Date(expiresAt).toISOString() } },
      ],
    };
  }


  async get(customerId: string, id: string): Promise<PaymentIntent> {
    const now = this.clock.now();
    const intent = await this.database.db.selectFrom('payment_intents').selectAll().where('id', '=', id).where('customer_id', '=', customerId).executeTakeFirst();
    if (!intent) throw notFound();
    return this.dto(this.database.db, intent, now);
  }

  /**
   * Completes a one-off payment after 3-D Secure (the reader came back with `payment_intent`).
   * Idempotent: a second confirm returns the succeeded intent and charges nothing. Subscription
   * intents need no confirm (they activate on the bank page); confirming one just returns it.
   */
  async confirm(customerId: string, id: string): Promise<PaymentIntent> {
    const now = this.clock.now();
    const result = await writeTransaction(this.database, async (trx) => {
      const intent = await trx.selectFrom('payment_intents').selectAll().where('id', '=', id).where('customer_id', '=', customerId).$if(this.database.dialect === 'postgres', (q) => q.forUpdate()).executeTakeFirst();
      if (!intent) throw notFound();
      let current = intent;
      let pending: PendingNotification[] = [];
      let error: ApiError | null = null;
      if (intent.kind === 'payment') {
        if ((intent.status === 'requires_action' || intent.status === 'requires_confirmation') && Number(intent.expires_at) <= now.getTime()) {
          await trx.updateTable('payment_intents').set({ status: 'canceled', updated_at: now.getTime() }).where('id', '=', intent.id).execute();
          current = { ...intent, status: 'canceled' };
        }
        if (current.status === 'requires_confirmation') {
          const token = await trx.selectFrom('card_tokens').selectAll().where('id', '=', intent.card_token_id).executeTakeFirstOrThrow();
          const charge = sandboxCharge(token, { offSession: false, authenticated: true, now });
          if (charge.result === 'succeeded') {
            ({ pending } = await this.completePayment(trx, intent, token, now));
          } else {
            const message = charge.result === 'declined' ? charge.message : AUTHENTICATION_FAILED;
            await trx.updateTable('payment_intents').set({ status: 'failed', failure_code: 'card_declined', failure_message: message, updated_at: now.getTime() }).where('id', '=', intent.id).execute();
            pending = [{ customerId, type: 'payment.card.failed', resource: { code: 422, reason: 'card_declined', message, payment_intent: intent.id, product: intent.product } }];
            error = new ApiError(402, 'card_declined', message);
          }
          current = (await trx.selectFrom('payment_intents').selectAll().where('id', '=', intent.id).executeTakeFirstOrThrow());
        } else if (current.status === 'requires_action') {
          error = new ApiError(402, 'authentication_required', 'Confirm the payment on the 3-D Secure page first.');
        } else if (current.status === 'failed') {
          error = new ApiError(402, 'authentication_failed', current.failure_message ?? AUTHENTICATION_FAILED);
        } else if (current.status === 'canceled') {
          error = new ApiError(410, 'intent_expired', 'This payment has expired. Nothing was charged; start the purchase again.');
        }
      }
      return { dto: await this.dto(trx, current, now), error, written: await this.notifications.append(trx, pending, now) };
    });
    this.notifications.publish(result.written);
    if (result.error) throw result.error;
    return result.dto;
  }

  /** The intent behind a 3-D Secure link, when the link's signature is right. */
  async intentForPage(id: string, signature: string): Promise<IntentRow | null> {
    if (!this.links.verifyIntent(id, signature)) return null;
    return (await this.database.db.selectFrom('payment_intents').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
  }

  /**
   * The reader's answer on the hosted 3-D Secure page. Approve: a one-off payment waits for
   * its confirm call; a subscription's first payment is charged and the subscription activates;
   * an off-session renewal is charged and the subscription is active again. Fail: the payment
   * fails (`payment.card.failed` / `subscribe.failed`); a renewal keeps its remaining retries.
   * Answering a decided intent changes nothing; an expired one can no longer be approved.
   */
  async authenticate(id: string, answer: 'approve' | 'fail'): Promise<IntentRow> {
    const now = this.clock.now();
    const at = now.getTime();
    const result = await writeTransaction(this.database, async (trx) => {
      const first = await trx.selectFrom('payment_intents').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      // Lock order: the subscription, then the intent — the billing clock takes them in the same order.
      const sub = first.subscription_id ? await this.lifecycle.lock(trx, first.subscription_id) : undefined;
      const intent = await trx.selectFrom('payment_intents').selectAll().where('id', '=', id).$if(this.database.dialect === 'postgres', (q) => q.forUpdate()).executeTakeFirstOrThrow();
      if (intent.status !== 'requires_action') return { written: [] };
      let pending: PendingNotification[] = [];
      if (Number(intent.expires_at) <= at) {
        pending = await this.#expire(trx, intent, sub, now);
      } else if (intent.kind === 'payment') {
        if (answer === 'approve') {
          await trx.updateTable('payment_intents').set({ status: 'requires_confirmation', updated_at: at }).where('id', '=', intent.id).execute();
        } else {
          await this.#fail(trx, intent, now);
          pending = [{ customerId: intent.customer_id, type: 'payment.card.failed', resource: { code: 422, reason: 'authentication_failed', message: AUTHENTICATION_FAILED, payment_intent: intent.id, product: intent.product } }];
        }
      } else if (!sub) {
        await trx.updateTable('payment_intents').set({ status: 'canceled', updated_at: at }).where('id', '=', intent.id).execute();
      } else if (intent.kind === 'subscription') {
        pending = await this.#answerFirstPayment(trx, intent, sub, answer, now);
      } else {
        pending = await this.#answerRenewal(trx, intent, sub, answer, now);
      }
      return { written: await this.notifications.append(trx, pending, now) };
    });
    this.notifications.publish(result.written);
    return this.database.db.selectFrom('payment_intents').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  }

  async #answerFirstPayment(trx: Trx, intent: IntentRow, sub: SubscriptionRow, answer: 'approve' | 'fail', now: Date): Promise<PendingNotification[]> {
    if (sub.status !== 'incomplete') {
      await trx.updateTable('payment_intents').set({ status: 'canceled', updated_at: now.getTime() }).where('id', '=', intent.id).execute();
      return [];
    }
    if (answer === 'fail') {
      await this.#fail(trx, intent, now);
      const ended = await this.lifecycle.end(trx, sub, 'failed', now, 'authentication_failed');
      await trx.updateTable('billing_charges').set({ status: 'failed', failure_code: 'authentication_failed', failure_message: AUTHENTICATION_FAILED }).where('id', '=', intent.charge_id ?? '').execute();
      return [this.lifecycle.failedNotification(sub, { reason: 'authentication_failed', message: AUTHENTICATION_FAILED, paymentIntent: intent.id }), ...ended.pending];
    }
    if (await this.lifecycle.liveFor(trx, sub.customer_id, sub.plan)) {
      // Subscribed meanwhile in another window: this one never starts.
      await trx.updateTable('payment_intents').set({ status: 'canceled', updated_at: now.getTime() }).where('id', '=', intent.id).execute();
      return (await this.lifecycle.end(trx, sub, 'incomplete_expired', now, 'superseded')).pending;
    }
    const collected = await this.lifecycle.collect(trx, sub, { offSession: false, authenticated: true, now });
    if (collected.result !== 'succeeded') {
      const message = collected.result === 'declined' ? collected.message : AUTHENTICATION_FAILED;
      await this.#fail(trx, intent, now, 'card_declined', message);
      const ended = await this.lifecycle.end(trx, sub, 'failed', now, 'card_declined');
      return [this.lifecycle.failedNotification(sub, { reason: 'card_declined', message, paymentIntent: intent.id }), ...ended.pending];
    }
    await trx.updateTable('payment_intents').set({ status: 'succeeded', transaction_id: collected.transactionId, updated_at: now.getTime() }).where('id', '=', intent.id).execute();
    await trx.updateTable('billing_charges').set({ status: 'succeeded', transaction_id: collected.transactionId, processed_at: now.getTime() }).where('id', '=', intent.charge_id ?? '').execute();
    const paid = await this.lifecycle.periodPaid(trx, sub, 1, { now, paymentIntent: intent.id, renewal: false });
    return [...collected.pending, ...paid.pending];
  }

  async #answerRenewal(trx: Trx, intent: IntentRow, sub: SubscriptionRow, answer: 'approve' | 'fail', now: Date): Promise<PendingNotification[]> {
    const charge = await trx.selectFrom('billing_charges').selectAll().where('id', '=', intent.charge_id ?? '').executeTakeFirst();
    if (!charge || sub.status !== 'past_due' || Number(charge.period) !== Number(sub.current_period) + 1) {
      await trx.updateTable('payment_intents').set({ status: 'canceled', updated_at: now.getTime() }).where('id', '=', intent.id).execute();
      return [];
    }
    if (answer === 'fail') {
      // The next scheduled retry asks again; after the last one the subscription fails.
      await this.#fail(trx, intent, now);
      return [];
    }
    const collected = await this.lifecycle.collect(trx, sub, { offSession: false, authenticated: true, now });
    if (collected.result !== 'succeeded') {
      await this.#fail(trx, intent, now, 'card_declined', collected.result === 'declined' ? collected.message : AUTHENTICATION_FAILED);
      return [];
    }
    await trx.updateTable('payment_intents').set({ status: 'succeeded', transaction_id: collected.transactionId, updated_at: now.getTime() }).where('id', '=', intent.id).execute();
    await trx.updateTable('billing_charges').set({ status: 'succeeded', transaction_id: collected.transactionId, processed_at: now.getTime() }).where('id', '=', charge.id).execute();
    const paid = await this.lifecycle.periodPaid(trx, sub, Number(charge.period), { now, paymentIntent: intent.id, renewal: true });
    return [...collected.pending, ...paid.pending];
  }

  async #fail(trx: Trx, intent: IntentRow, now: Date, code = 'authentication_failed', message = AUTHENTICATION_FAILED): Promise<void> {
    await trx.updateTable('payment_intents').set({ status: 'failed', failure_code: code, failure_message: message, updated_at: now.getTime() }).where('id', '=', intent.id).execute();
  }

  /**
   * An intent whose 24 h (or whose renewal's retries) ran out: it is canceled, and a subscription
   * still waiting for it becomes `incomplete_expired`, never to be activated. Runs from the
   * billing clock and whenever an expired intent is touched.
   */
  async expire(id: string): Promise<boolean> {
    const now = this.clock.now();
    const result = await writeTransaction(this.database, async (trx) => {
      const first = await trx.selectFrom('payment_intents').select('subscription_id').where('id', '=', id).executeTakeFirst();
      if (!first) return { expired: false, written: [] };
      const sub = first.subscription_id ? await this.lifecycle.lock(trx, first.subscription_id) : undefined;
      const intent = await trx.selectFrom('payment_intents').selectAll().where('id', '=', id).$if(this.database.dialect === 'postgres', (q) => q.forUpdate()).executeTakeFirstOrThrow();
      if ((intent.status !== 'requires_action' && intent.status !== 'requires_confirmation') || Number(intent.expires_at) > now.getTime()) return { expired: false, written: [] };
      const pending = await this.#expire(trx, intent, sub, now);
      return { expired: true, written: await this.notifications.append(trx, pending, now) };
    });
    this.notifications.publish(result.written);
    return result.expired;
  }

  async #expire(trx: Trx, intent: IntentRow, sub: SubscriptionRow | undefined, now: Date): Promise<PendingNotification[]> {
    await trx.updateTable('payment_intents').set({ status: 'canceled', updated_at: now.getTime() }).where('id', '=', intent.id).execute();
    if (intent.kind === 'subscription' && sub?.status === 'incomplete') return (await this.lifecycle.end(trx, sub, 'incomplete_expired', now, 'authentication_expired')).pending;
    return [];
  }

  async dto(db: Trx, intent: IntentRow, now: Date): Promise<PaymentIntent> {
    const card = await db.selectFrom('card_tokens').select(['brand', 'last4']).where('id', '=', intent.card_token_id).executeTakeFirst();
    const sub = intent.subscription_id ? await db.selectFrom('subscriptions').select(['plan']).where('id', '=', intent.subscription_id).executeTakeFirst() : undefined;
    // An intent past its time is shown as what it is about to become.
    const expired = (intent.status === 'requires_action' || intent.status === 'requires_confirmation') && Number(intent.expires_at) <= now.getTime();
    const status = expired ? 'canceled' : intent.status;
    return {
      id: intent.id, status, kind: intent.kind, amount: Number(intent.amount), currency: intent.currency,
      redirectToUrl: status === 'requires_action' ? this.links.authenticationUrl(intent.id) : null,
      product: intent.product, plan: sub?.plan ?? null, subscription: intent.subscription_id,
      entitlement: status === 'succeeded' && intent.product && intent.entitlement_expires_at !== null ? { product: intent.product, expiresAt: new Date(Number(intent.entitlement_expires_at)).toISOString() } : null,
      card: card ? { brand: card.brand, last4: card.last4 } : null,
      failure: intent.failure_code ? { code: intent.failure_code, message: intent.failure_message ?? '' } : null,
      expiresAt: new Date(Number(intent.expires_at)).toISOString(),
      createdAt: new Date(Number(intent.created_at)).toISOString(),
    };
  }

  /** A subscription an intent belongs to, for the pages that report on it. */
  async subscription(id: string): Promise<SubscriptionRow | undefined> {
    return this.database.db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
  }}

function notFound(): ApiError {
  return new ApiError(404, 'intent_not_found', 'There is no such payment on this account.');
}
