import * as z from 'zod/mini';
import { PaymentRequiresActionResource, SubscribeRequiresActionResource, type Notification, type PaymentIntent } from '../protocol';
import type { BackendClient } from './backend-client';
import { BackendError, abortError, toBackendError } from './backend-error';
import type { EntitlementStore } from './entitlement-store';
import { notify } from './listeners';
import type { SessionStore } from './session-store';
import type { SubscriptionStore } from './subscription-store';

/** A payment waiting for the reader on the hosted 3-D Secure page. */
export interface ScaAction {
  paymentIntent: string;
  redirectToUrl: string;
  kind: 'payment' | 'subscription';
  product?: string;
  subscription?: string;
  plan?: string;
}

/** The part of the NotificationSocket the flow reads: whether it is up, and its messages. */
export interface ScaNotifications {
  readonly connected: boolean;
  subscribe(listener: (n: Notification) => void): () => void;
}

export interface ScaFlowDeps {
  client: BackendClient;
  session: SessionStore;
  notifications: ScaNotifications;
  entitlements?: EntitlementStore;
  subscriptions?: SubscriptionStore;
  /** True while a purchase or subscription of this page shows the 3-D Secure page in its own window. */
  ownWindowOpen?: () => boolean;
  /** Leaves the page for the 3-D Secure page (default `location.assign`). */
  navigate?: (url: string) => void;
  /** First poll delay in ms while the socket is down (default 1000); doubles up to `maxPollDelay`. */
  minPollDelay?: number;
  /** Longest poll delay in ms (default 15000). */
  maxPollDelay?: number;
}

export const FINAL_INTENT_STATUSES: ReadonlySet<PaymentIntent['status']> = new Set(['succeeded', 'failed', 'canceled']);

/** Why an intent that did not succeed granted nothing: the one mapping of intent states to errors. */
export function intentError(intent: PaymentIntent): BackendError {
  if (intent.status === 'failed') return new BackendError(intent.failure?.code ?? 'authentication_failed', intent.failure?.message ?? 'The payment was not authenticated.');
  if (intent.status === 'canceled') return new BackendError('intent_expired', 'This payment has expired. Nothing was charged.');
  return new BackendError('authentication_required', 'Confirm the payment on the 3-D Secure page first.');
}

/** Notifications that end (or move on) an intent: a reason to look at it again. */
const OUTCOMES = new Set(['payment.card.success', 'payment.card.failed', 'subscribe.success', 'subscribe.failed']);

/**
 * Strong Customer Authentication for one backend: hands `*.requires.action` notifications to
 * whoever follows them (`<sca-handler>`), confirms a one-off payment's intent once per page however
 * often it is asked, completes a `?payment_intent=` return, and follows an intent to its final
 * status — by notification while the socket is up, by polling with backoff while it is not, so a
 * lost message never leaves the reader waiting.
 */
export class ScaFlow {
  readonly #client: BackendClient;
  readonly #session: SessionStore;
  readonly #notifications: ScaNotifications;
  readonly #entitlements: EntitlementStore | undefined;
  readonly #subscriptions: SubscriptionStore | undefined;
  readonly #ownWindowOpen: () => boolean;
  readonly #navigate: (url: string) => void;
  readonly #minPoll: number;
  readonly #maxPoll: number;
  readonly #confirms = new Map<string, Promise<PaymentIntent>>();
  readonly #actionListeners = new Set<(action: ScaAction) => void>();
  /** Intents already handed to action listeners, so a repeated notification opens nothing twice. */
  readonly #announced = new Set<string>();
  #stopActions: (() => void) | null = null;
  #returned: Promise<PaymentIntent | null> | null = null;

  constructor(deps: ScaFlowDeps) {
    this.#client = deps.client;
    this.#session = deps.session;
    this.#notifications = deps.notifications;
    this.#entitlements = deps.entitlements;
    this.#subscriptions = deps.subscriptions;
    this.#ownWindowOpen = deps.ownWindowOpen ?? (() => false);
    this.#navigate = deps.navigate ?? ((url) => location.assign(url));
    this.#minPoll = deps.minPollDelay ?? 1000;
    this.#maxPoll = Math.max(deps.maxPollDelay ?? 15_000, this.#minPoll);
  }

  /** Leaves the page for a 3-D Secure page of this backend (redirect mode). */
  navigate(url: string): void {
    this.#navigate(this.#client.paymentPageUrl(url));
  }

  /**
   * Calls `listener` for each payment of the signed-in reader that waits for 3-D Secure, once per
   * intent, and only while it still waits (the socket replays old notifications on connect).
   * Actions that a purchase of this page already shows in its own window are left to it.
   */
  onAction(listener: (action: ScaAction) => void): () => void {
    this.#actionListeners.add(listener);
    this.#stopActions ??= this.#notifications.subscribe((n) => void this.#fromNotification(n));
    return () => {
      this.#actionListeners.delete(listener);
      if (!this.#actionListeners.size && this.#stopActions) {
        this.#stopActions();
        this.#stopActions = null;
      }
    };
  }

  /**
   * Completes a one-off payment after 3-D Secure (POST /v1/payment-intents/:id/confirm), once per
   * page: a second call for the same intent gets the first call's promise. The access it bought is
   * applied to the entitlements; a subscription's intent refreshes the subscriptions.
   */
  confirm(id: string): Promise<PaymentIntent> {
    let promise = this.#confirms.get(id);
    if (!promise) {
      promise = this.#client.confirmPaymentIntent(id).then((intent) => {
        this.#settled(intent);
        return intent;
      });
      this.#confirms.set(id, promise);
    }
    return promise;
  }

  /**
   * Completes a return from the hosted pages without a popup: reads `?payment_intent=` (and the
   * `#paywall-…` fragment beside it), removes both from the address bar with `history.replaceState`
   * and confirms the intent once. Null when the URL carries none. Every caller gets the same promise.
   */
  resumeFromUrl(): Promise<PaymentIntent | null> {
    this.#returned ??= this.#resumeFromUrl();
    return this.#returned;
  }

  /**
   * Follows intent `id` until it succeeds, fails or expires: looks again on every outcome
   * notification, and polls GET /v1/payment-intents/:id with backoff while the socket is down.
   * A one-off payment found authenticated (`requires_confirmation`) is confirmed.
   */
  track(id: string, signal?: AbortSignal): Promise<PaymentIntent> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<PaymentIntent>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let delay = this.#minPoll;
      let done = false;
      let looking = false;
      const finish = (error: BackendError | null, intent?: PaymentIntent) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        stop();
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(intent!);
      };
      const look = async () => {
        if (done || looking) return;
        looking = true;
        try {
          let intent = await this.#client.paymentIntent(id, signal);
          if (intent.status === 'requires_confirmation' && intent.kind === 'payment') intent = await this.confirm(id);
          if (FINAL_INTENT_STATUSES.has(intent.status)) {
            this.#settled(intent);
            finish(null, intent);
          }
        } catch (error) {
          const failure = toBackendError(error, signal);
          // Lost network: keep looking; anything the server says about the intent itself is final.
          if (failure.code !== 'network_error' && failure.code !== 'invalid_response') finish(failure);
        } finally {
          looking = false;
        }
      };
      const schedule = () => {
        if (done) return;
        timer = setTimeout(async () => {
          if (!this.#notifications.connected) await look();
          delay = Math.min(delay * 2, this.#maxPoll);
          schedule();
        }, delay);
      };
      const stop = this.#notifications.subscribe((n) => {
        if (OUTCOMES.has(n.type) && n.resource.payment_intent === id) void look();
      });
      const onAbort = () => finish(abortError(signal));
      signal?.addEventListener('abort', onAbort, { once: true });
      // One look now: the outcome may have been sent before anyone listened.
      void look();
      schedule();
    });
  }

  async #resumeFromUrl(): Promise<PaymentIntent | null> {
    if (typeof location === 'undefined') return null;
    const url = new URL(location.href);
    const id = url.searchParams.get('payment_intent');
    if (!id) return null;
    url.searchParams.delete('payment_intent');
    // The hosted page's result fragment belongs to the same return; the intent says all of it.
    if (/^#paywall-/.test(url.hash)) url.hash = '';
    history.replaceState(history.state, '', url.href);
    if (!this.#session.signedIn) throw new BackendError('sign_in_required', 'Sign in to complete the payment.');
    const intent = await this.confirm(id);
    if (intent.status === 'failed' || intent.status === 'canceled') throw intentError(intent);
    return intent;
  }

  /** Applies what a finished intent changed: the access it bought, the subscription it started. */
  #settled(intent: PaymentIntent) {
    if (intent.status !== 'succeeded') return;
    if (intent.entitlement) this.#entitlements?.apply({ product: intent.entitlement.product, granted: true, expiresAt: intent.entitlement.expiresAt }, 'purchase');
    if (intent.subscription) {
      this.#subscriptions?.refresh().catch(() => undefined);
      // Which products the plan opens is the server's business: ask again about every product shown.
      this.#entitlements?.refresh();
    }
  }

  async #fromNotification(notification: Notification) {
    let action: ScaAction;
    if (notification.type === 'payment.card.requires.action') {
      const r = z.safeParse(PaymentRequiresActionResource, notification.resource);
      if (!r.success) return;
      action = { paymentIntent: r.data.payment_intent, redirectToUrl: r.data.redirect_to_url, kind: 'payment', product: r.data.product };
    } else if (notification.type === 'subscribe.requires.action') {
      const r = z.safeParse(SubscribeRequiresActionResource, notification.resource);
      if (!r.success) return;
      action = { paymentIntent: r.data.payment_intent, redirectToUrl: r.data.redirect_to_url, kind: 'subscription', subscription: r.data.subscription, plan: r.data.plan };
    } else {
      return;
    }
    if (this.#announced.has(action.paymentIntent) || this.#ownWindowOpen()) return;
    this.#announced.add(action.paymentIntent);
    try {
      // A replayed notification of an intent that is long decided must open nothing.
      const intent = await this.#client.paymentIntent(action.paymentIntent);
      if (intent.status !== 'requires_action') return;
      action.redirectToUrl = this.#client.paymentPageUrl(intent.redirectToUrl ?? action.redirectToUrl);
    } catch {
      this.#announced.delete(action.paymentIntent);
      return;
    }
    if (this.#ownWindowOpen()) return;
    notify(this.#actionListeners, action);
  }
}
