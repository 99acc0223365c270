import * as z from 'zod/mini';
import { Currency, decodeOfferToken, HostedMessage, IdempotencyKey, MinorUnits, OfferToken, ProductId, type PaymentIntent, type PaymentMethod, type PaymentRequest, type PaymentResponse, type PurchaseRequest, type PurchaseResponse, type Subscription } from '../protocol';
import type { BackendClient, HostedPage } from './backend-client';
import { BackendError, toBackendError } from './backend-error';
import type { AccessState, EntitlementStore } from './entitlement-store';
import { HostedWindow, type HostedWindowEventType } from './hosted-window';
import { reportError } from './listeners';
import type { ScaFlow } from './sca-flow';
import type { SessionStore } from './session-store';
import type { SubscriptionStore } from './subscription-store';
import type { WalletStore } from './wallet-store';

/** `paying`: the hosted card checkout (and its 3-D Secure step) is open. */
export type PurchaseStep = 'checking' | 'signing-in' | 'working' | 'topping-up' | 'paying' | 'granted';

export interface PurchaseTarget {
  product?: string;
  /** A merchant-signed offer token; when both are given, the offer is what is bought. */
  offer?: string;
  /** Display price in minor units; the server refuses (`price_mismatch`) when it differs. */
  price?: number;
  currency?: string;
}

export type ProgressListener = (step: PurchaseStep, window?: HostedWindowEventType) => void;

export interface PurchaseOptions {
  onProgress?: ProgressListener;
  signal?: AbortSignal;
  /** `card`: a one-off card payment on the hosted checkout page; default the wallet. */
  method?: PaymentMethod;
}

export interface PurchaseFlowDeps {
  client: BackendClient;
  session: SessionStore;
  entitlements: EntitlementStore;
  wallet: WalletStore;
  /** Leaves the page for a hosted page when a popup is blocked (default `location.assign`). */
  navigate?: (url: string) => void;
  /** Kept current by subscriptions started here. */
  subscriptions?: SubscriptionStore;
  /** Confirms card payments once per page after 3-D Secure. */
  sca?: ScaFlow;
}

/** Hosted windows one purchase may go through (sign-in, top-up, a second top-up…) before it gives up. */
const MAX_HOSTED_ROUNDS = 4;
/** A pending step older than this is abandoned, not resumed: nothing is bought without a recent click. */
const PENDING_TTL_MS = 60 * 60 * 1000;

const PendingTarget = z.object({
  product: z.optional(ProductId),
  offer: z.optional(OfferToken),
  price: z.optional(MinorUnits),
  currency: z.optional(Currency),
});

/** What survives the same-tab redirect to a hosted page, in sessionStorage. */
const PendingRecord = z.object({
  v: z.literal(1),
  at: z.number(),
  step: z.enum(['checking', 'signing-in', 'working', 'topping-up', 'granted']),
  target: z.optional(PendingTarget),
  idempotencyKey: z.optional(IdempotencyKey),
  /** The page's own fragment, put back once the result fragment is read. */
  hash: z.optional(z.string()),
});
type PendingRecord = z.infer<typeof PendingRecord>;

/** A purchase (or sign-in, or top-up) on its way: one per product per page. */
interface Running {
  promise: Promise<unknown>;
  readonly window: HostedWindow | null;
}

function sessionArea(): Storage | null {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}

/** A fresh key per purchase attempt, in the server's IdempotencyKey alphabet (a UUID's 36 characters). */
export function newIdempotencyKey(): string {
  const key = typeof crypto.randomUUID === 'function'
    ? crypto.randomUUID()
    : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  return z.parse(IdempotencyKey, key);
}

/** The product a target buys: its `product`, or the one named inside its (unverified here) offer. */
export function productOf(target: PurchaseTarget): string {
  if (target.offer) {
    const offer = decodeOfferToken(target.offer);
    if (!offer) throw new BackendError('configuration_error', 'The offer is not a readable signed offer.');
    return offer.payload.product;
  }
  if (target.product && z.safeParse(ProductId, target.product).success) return target.product;
  throw new BackendError('configuration_error', target.product ? `"${target.product}" is not a valid product id.` : 'Say what to buy: a product or an offer.');
}

function purchaseRequest(target: PurchaseTarget, idempotencyKey: string): PurchaseRequest {
  const extras = { ...(target.price !== undefined && { price: target.price }), ...(target.currency !== undefined && { currency: target.currency }), idempotencyKey };
  return target.offer ? { offer: target.offer, ...extras } : { product: target.product!, ...extras };
}

/** Where the hosted checkout sends the reader back when it cannot post to an opener: this page, without its fragment. */
function returnUrl(): { returnUrl?: string } {
  if (typeof location === 'undefined' || !/^https?:$/.test(location.protocol)) return {};
  const here = new URL(location.href);
  here.hash = '';
  return { returnUrl: here.href };
}

/** Why a finished card payment granted nothing. */
function intentError(intent: PaymentIntent): BackendError {
  if (intent.status === 'failed') return new BackendError(intent.failure?.code ?? 'authentication_failed', intent.failure?.message ?? 'The payment was not authenticated.');
  if (intent.status === 'canceled') return new BackendError('intent_expired', 'This payment has expired. Nothing was charged.');
  return new BackendError('authentication_required', 'Confirm the payment on the 3-D Secure page first.');
}

function grantFresh(state: AccessState | undefined): state is AccessState {
  return !!state?.granted && (state.expiresAt === null || Date.parse(state.expiresAt) > Date.now());
}

/**
 * Buys access, from the reader's click to the granted state: one click when signed in with
 * enough balance; otherwise through the hosted sign-in and top-up windows, or, when the browser
 * blocks the popup, a same-tab redirect that `resumePending()` completes on return.
 *
 * Double purchases: a second `purchase()` of a product already being bought on this page joins
 * the first (same promise, its window is brought to the front); one being bought in another tab
 * rejects with `purchase_in_progress` (Web Locks), and that tab's grant arrives over
 * BroadcastChannel. Every attempt has one idempotency key, kept across popups, retries after a
 * top-up and the redirect, so the server charges it at most once.
 */
export class PurchaseFlow {
  readonly backendOrigin: string;
  readonly #client: BackendClient;
  readonly #session: SessionStore;
  readonly #entitlements: EntitlementStore;
  readonly #wallet: WalletStore;
  readonly #navigate: (url: string) => void;
  readonly #pendingKey: string;
  readonly #running = new Map<string, Running>();
  readonly #subscriptions: SubscriptionStore | undefined;
  readonly #sca: ScaFlow | undefined;
  /** Hosted checkout windows open right now (their 3-D Secure step included). */
  #paying = 0;
  #resumed: Promise<AccessState | null> | null = null;

  constructor(deps: PurchaseFlowDeps) {
    this.#client = deps.client;
    this.backendOrigin = deps.client.origin;
    this.#session = deps.session;
    this.#entitlements = deps.entitlements;
    this.#wallet = deps.wallet;
    this.#navigate = deps.navigate ?? ((url) => location.assign(url));
    this.#pendingKey = `paywall-kit:pending:${deps.client.origin}`;
    this.#subscriptions = deps.subscriptions;
    this.#sca = deps.sca;
  }

  /** Whether a checkout of this page shows its card (and 3-D Secure) pages in its own window right now. */
  get checkoutOpen(): boolean {
    return this.#paying > 0;
  }

  /** Whether `product` is being bought on this page right now. */
  inProgress(product: string): boolean {
    return this.#running.has(product);
  }

  /**
   * Buys `target`. Call it synchronously inside the reader's click: when a hosted window will
   * surely be needed (signed out; or the known balance is below the known price) it is opened
   * before anything is awaited, so the browser lets it open.
   */
  purchase(target: PurchaseTarget, options: PurchaseOptions = {}): Promise<AccessState> {
    let product: string;
    try {
      product = productOf(target);
    } catch (error) {
      return Promise.reject(error);
    }
    const held = this.#entitlements.get(product);
    if (grantFresh(held)) return Promise.resolve(held);
    const running = this.#join<AccessState>(product);
    if (running) return running;

    // Synchronous from here to the first await: the placeholder must open inside the click.
    if (options.method === 'card') {
      // A card always needs the hosted checkout window: open it now, inside the click.
      const attempt = new Attempt(target, product, newIdempotencyKey(), options);
      attempt.progress('checking');
      attempt.openWindow(this.#session.signedIn ? 'paying' : 'signing-in', this.backendOrigin);
      if (!this.#session.signedIn) attempt.first = { step: 'signing-in', url: this.#signInUrl() };
      return this.#track(product, attempt, () => this.#runCard(attempt));
    }
    const wallet = this.#wallet.wallet;
    const short = wallet !== null && target.price !== undefined && (target.currency === undefined || target.currency === wallet.currency) && wallet.balance < target.price;
    const placeholderStep: PurchaseStep | null = !this.#session.signedIn ? 'signing-in' : short ? 'topping-up' : null;
    const attempt = new Attempt(target, product, newIdempotencyKey(), options);
    attempt.progress('checking');
    if (placeholderStep) {
      attempt.openWindow(placeholderStep, this.backendOrigin);
      // The window's first page is known without asking the server, so nothing is sent before it.
      attempt.first = placeholderStep === 'signing-in'
        ? { step: placeholderStep, url: this.#signInUrl() }
        : { step: placeholderStep, url: this.#client.hostedUrl('top-up', { amount: String(target.price! - wallet!.balance), currency: wallet!.currency }) };
    }
    return this.#track(product, attempt, () => this.#run(attempt));
  }

  /**
   * Subscribes to `plan`. Call it synchronously inside the reader's click: signed out, or paying by
   * card, the hosted window opens at once (sign-in first, then the checkout and its 3-D Secure
   * step in the same window). From the wallet, a signed-in reader needs no window unless the
   * balance is short (then top-up, in a window opened later, which a browser may block).
   */
  subscribe(plan: string, method: PaymentMethod, options: PurchaseOptions = {}): Promise<Subscription> {
    const key = `:subscribe:${plan}`;
    const running = this.#join<Subscription>(key);
    if (running) return running;
    const attempt = new Attempt(null, key, newIdempotencyKey(), options);
    attempt.progress('checking');
    const signedIn = this.#session.signedIn;
    if (!signedIn || method === 'card') {
      attempt.openWindow(signedIn ? 'paying' : 'signing-in', this.backendOrigin);
      if (!signedIn) attempt.first = { step: 'signing-in', url: this.#signInUrl() };
    }
    return this.#track(key, attempt, () => this.#runSubscribe(attempt, plan, method));
  }

  /**
   * Completes a purchase (or sign-in, or top-up) that left the page through a same-tab redirect:
   * reads `#paywall-type=…&paywall-token=…`, removes it from the address bar, stores the token and
   * buys with the same idempotency key. Null when nothing of this backend was pending.
   */
  resumePending(options: PurchaseOptions = {}): Promise<AccessState | null> {
    this.#resumed ??= this.#resume(options);
    return this.#resumed;
  }

  /** Opens the hosted sign-in (or sign-up) window; call it inside a click. Resolves once signed in. */
  signIn(mode?: 'sign-in' | 'sign-up', options: PurchaseOptions = {}): Promise<void> {
    const page: HostedPage = mode ?? (this.#session.known ? 'sign-in' : 'sign-up');
    const running = this.#join<void>(':sign-in');
    if (running) return running;
    const attempt = new Attempt(null, ':sign-in', null, options);
    attempt.openWindow('signing-in', this.backendOrigin);
    return this.#track(':sign-in', attempt, async () => {
      await this.#hosted(attempt, 'signing-in', this.#client.hostedUrl(page));
    });
  }

  /** Opens the hosted top-up window; call it inside a click. Resolves once topped up, with the balance reloaded. */
  topUp(options: PurchaseOptions = {}): Promise<void> {
    const running = this.#join<void>(':top-up');
    if (running) return running;
    const attempt = new Attempt(null, ':top-up', null, options);
    attempt.openWindow('topping-up', this.backendOrigin);
    const wallet = this.#wallet.wallet;
    return this.#track(':top-up', attempt, async () => {
      await this.#hosted(attempt, 'topping-up', this.#client.hostedUrl('top-up', wallet ? { currency: wallet.currency } : {}));
      await this.#wallet.refresh(options.signal).catch(() => null);
    });
  }

  /** The attempt already running under `key`, its window brought to the front. */
  /**
   * Brings the hosted window of what is being bought (a product id) to the front, for a reader who
   * lost it behind the page. False when no window of it is open.
   */
  showWindow(product: string): boolean {
    const win = this.#running.get(product)?.window;
    if (!win || win.closed) return false;
    win.focus();
    return true;
  }

  #join<T>(key: string): Promise<T> | null {
    const running = this.#running.get(key);
    if (!running) return null;
    this.showWindow(key);
    return running.promise as Promise<T>;
  }

  /** Registers the attempt for joining, holds the cross-tab lock while it runs, closes an unused window after. */
  #track<T>(key: string, attempt: Attempt, run: () => Promise<T>): Promise<T> {
    const promise = this.#locked(key, run).finally(() => {
      if (this.#running.get(key)?.promise === promise) this.#running.delete(key);
      attempt.window?.close();
    });
    this.#running.set(key, { promise, get window() { return attempt.window; } });
    return promise;
  }

  /** Runs `fn` holding the Web Lock for `key` across tabs, or rejects with purchase_in_progress. */
  #locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
    if (!locks || key.startsWith(':')) return fn();
    return locks.request(`paywall-kit:purchase:${this.#client.origin}:${key}`, { ifAvailable: true }, (lock) => {
      if (!lock) throw new BackendError('purchase_in_progress', 'This is already being bought in another tab.');
      return fn();
    }) as Promise<T>;
  }

  async #run(attempt: Attempt): Promise<AccessState> {
    const { target, key, signal } = attempt;
    if (attempt.first) await this.#hosted(attempt, attempt.first.step, attempt.first.url);
    for (let round = 0; ; round++) {
      attempt.progress('working');
      let response: PurchaseResponse;
      try {
        response = await this.#client.purchase(purchaseRequest(target!, key!), signal);
      } catch (error) {
        const failure = toBackendError(error, signal);
        const signInNeeded = failure.status === 401 && (failure.code === 'sign_in_required' || failure.code === 'unauthenticated');
        const topUpNeeded = failure.status === 402 && failure.code === 'insufficient_funds';
        if ((!signInNeeded && !topUpNeeded) || round >= MAX_HOSTED_ROUNDS) throw failure;
        if (signInNeeded) {
          await this.#hosted(attempt, 'signing-in', this.#signInUrl(failure.signInUrl));
        } else {
          const params: Record<string, string> = failure.missing ? { amount: String(failure.missing) } : {};
          await this.#hosted(attempt, 'topping-up', this.#client.withHostedParams(failure.topUpUrl ?? '', params, 'top-up'));
        }
        continue;
      }
      this.#wallet.set(response.wallet);
      this.#entitlements.apply({ product: response.entitlement.product, granted: true, expiresAt: response.entitlement.expiresAt }, 'purchase');
      attempt.progress('granted');
      return this.#entitlements.get(response.entitlement.product) ?? { product: response.entitlement.product, granted: true, expiresAt: response.entitlement.expiresAt, source: 'purchase' };
    }
  }

  /** A hosted window for a failure that one can fix (sign in, top up); false when it is final. */
  async #recover(attempt: Attempt, failure: BackendError, round: number): Promise<boolean> {
    const signInNeeded = failure.status === 401 && (failure.code === 'sign_in_required' || failure.code === 'unauthenticated');
    const topUpNeeded = failure.status === 402 && failure.code === 'insufficient_funds';
    if ((!signInNeeded && !topUpNeeded) || round >= MAX_HOSTED_ROUNDS) return false;
    if (signInNeeded) {
      await this.#hosted(attempt, 'signing-in', this.#signInUrl(failure.signInUrl));
    } else {
      const params: Record<string, string> = failure.missing ? { amount: String(failure.missing) } : {};
      await this.#hosted(attempt, 'topping-up', this.#client.withHostedParams(failure.topUpUrl ?? '', params, 'top-up'));
    }
    return true;
  }

  async #runCard(attempt: Attempt): Promise<AccessState> {
    const { target, key, signal } = attempt;
    if (attempt.first) await this.#hosted(attempt, attempt.first.step, attempt.first.url);
    for (let round = 0; ; round++) {
      attempt.progress('working');
      let response: PaymentResponse;
      try {
        response = await this.#client.payment({ ...(purchaseRequest(target!, key!) as PaymentRequest), ...returnUrl() }, signal);
      } catch (error) {
        const failure = toBackendError(error, signal);
        if (await this.#recover(attempt, failure, round)) continue;
        throw failure;
      }
      if (response.status === 'granted') return this.#granted(attempt, response.entitlement);
      let intent: PaymentIntent;
      if (response.status === 'requires_payment_method' || response.status === 'requires_action') {
        const url = response.status === 'requires_payment_method' ? response.checkoutUrl : response.paymentIntent.redirectToUrl;
        if (!url) throw new BackendError('invalid_response', 'The payment service sent no payment page.');
        const message = await this.#hosted(attempt, 'paying', this.#client.paymentPageUrl(url));
        if (message.type === 'payment-failed') throw new BackendError(message.code ?? 'card_declined', message.message ?? 'The payment failed.');
        if (message.type === 'payment-succeeded' && !message.paymentIntent) {
          const [grant] = (await this.#client.access([attempt.product], { signal })).access;
          if (!grant?.granted) throw new BackendError('invalid_response', 'The checkout reported a payment that granted nothing.');
          return this.#granted(attempt, { product: grant.product, expiresAt: grant.expiresAt! });
        }
        if (!message.paymentIntent) throw new BackendError('invalid_response', `The checkout reported "${message.type}" without a payment.`);
        intent = message.type === 'payment-intent' ? await this.#confirm(message.paymentIntent) : await this.#client.paymentIntent(message.paymentIntent, signal);
      } else if (response.status === 'requires_confirmation') {
        intent = await this.#confirm(response.paymentIntent.id);
      } else {
        intent = response.paymentIntent;
      }
      if (intent.status === 'succeeded' && intent.entitlement) return this.#granted(attempt, intent.entitlement);
      throw intentError(intent);
    }
  }

  #confirm(id: string): Promise<PaymentIntent> {
    return this.#sca ? this.#sca.confirm(id) : this.#client.confirmPaymentIntent(id);
  }

  #granted(attempt: Attempt, entitlement: { product: string; expiresAt: string }): AccessState {
    this.#entitlements.apply({ product: entitlement.product, granted: true, expiresAt: entitlement.expiresAt }, 'purchase');
    attempt.progress('granted');
    return this.#entitlements.get(entitlement.product) ?? { product: entitlement.product, granted: true, expiresAt: entitlement.expiresAt, source: 'purchase' };
  }

  async #runSubscribe(attempt: Attempt, plan: string, method: PaymentMethod): Promise<Subscription> {
    const { key, signal } = attempt;
    if (attempt.first) await this.#hosted(attempt, attempt.first.step, attempt.first.url);
    for (let round = 0; ; round++) {
      attempt.progress('working');
      let response;
      try {
        response = await this.#client.createSubscription({ plan, method, idempotencyKey: key!, ...returnUrl() }, signal);
      } catch (error) {
        const failure = toBackendError(error, signal);
        if (await this.#recover(attempt, failure, round)) continue;
        throw failure;
      }
      if (response.status !== 'requires_payment_method') {
        this.#subscriptions?.upsert(response.subscription);
        if (method === 'wallet') this.#wallet.refresh(signal).catch(() => null);
        this.#entitlements.refresh();
        attempt.progress('granted');
        return response.subscription;
      }
      const message = await this.#hosted(attempt, 'paying', this.#client.paymentPageUrl(response.checkoutUrl));
      if (message.type === 'payment-failed') throw new BackendError(message.code ?? 'authentication_failed', message.message ?? 'The payment was not authenticated.');
      if (message.type !== 'subscribed' || !message.subscription) throw new BackendError('invalid_response', `The checkout reported "${message.type}" instead of a subscription.`);
      const list = this.#subscriptions ? await this.#subscriptions.refresh() : await this.#client.subscriptions(signal);
      const subscription = list?.find((s) => s.id === message.subscription);
      if (!subscription) throw new BackendError('invalid_response', 'The checkout reported a subscription the payment service does not list.');
      this.#entitlements.refresh();
      attempt.progress('granted');
      return subscription;
    }
  }

  /** Readers who never signed in on this device most likely have no account yet: they get sign-up. */
  #signInUrl(fromServer?: string): string {
    if (!this.#session.known) return this.#client.hostedUrl('sign-up');
    return fromServer ? this.#client.withHostedParams(fromServer, {}, 'sign-in') : this.#client.hostedUrl('sign-in');
  }

  /**
   * One hosted step: in the placeholder opened in the click or the window of the previous step,
   * else in a new window (which the browser may block now), else by leaving the page. Stores the
   * token a sign-in hands over. The window stays open for a next step; #track closes it at the end.
   */
  async #hosted(attempt: Attempt, step: PurchaseStep, url: string): Promise<HostedMessage> {
    attempt.progress(step);
    const win = attempt.takeWindow(step, this.backendOrigin);
    if (win.blocked && step === 'paying') {
      // The server keeps the return URL of a checkout: the page comes back with its result.
      this.#navigate(url);
      throw new BackendError('popup_blocked', 'The browser blocked the window; continuing in this tab.');
    }
    if (win.blocked) {
      this.#redirect(url, { v: 1, at: Date.now(), step: step as PendingRecord['step'], ...(attempt.target && { target: attempt.target }), ...(attempt.key && { idempotencyKey: attempt.key }) });
      throw new BackendError('popup_blocked', 'The browser blocked the window; continuing in this tab.');
    }
    win.navigate(url);
    if (step === 'paying') this.#paying++;
    let message: HostedMessage;
    try {
      // Kept open after a success: the next step (top-up, checkout) goes to the same window, and
      // #track closes it when the flow ends.
      message = await win.result({ ...(attempt.signal && { signal: attempt.signal }), keepOpen: true });
    } finally {
      if (step === 'paying') this.#paying--;
    }
    this.#accept(message, step);
    return message;
  }

  #accept(message: HostedMessage, step: PurchaseStep) {
    if (message.type === 'signed-in' || message.type === 'signed-up') {
      if (!message.token) throw new BackendError('invalid_response', 'The sign-in page reported success without a session.');
      this.#session.set(message.token);
    } else if (step === 'signing-in' && !this.#session.signedIn) {
      throw new BackendError('invalid_response', `The sign-in page reported "${message.type}" without a session.`);
    }
  }

  /** Leaves the page for the hosted page, which comes back to this URL with the result in the fragment. */
  #redirect(url: string, record: PendingRecord) {
    const here = new URL(location.href);
    if (here.hash) record.hash = here.hash;
    here.hash = '';
    sessionArea()?.setItem(this.#pendingKey, JSON.stringify(record));
    const target = new URL(url);
    target.searchParams.set('return', here.href);
    this.#navigate(target.href);
  }

  #takePending(): PendingRecord | null {
    const area = sessionArea();
    const raw = area?.getItem(this.#pendingKey);
    if (!raw) return null;
    area!.removeItem(this.#pendingKey);
    try {
      const record = z.parse(PendingRecord, JSON.parse(raw));
      return Date.now() - record.at < PENDING_TTL_MS ? record : null;
    } catch {
      return null;
    }
  }

  async #resume(options: PurchaseOptions): Promise<AccessState | null> {
    const params = new URLSearchParams(location.hash.slice(1));
    const type = params.get('paywall-type');
    if (!type) {
      // Back without a result (the back button, a reload): the step was abandoned.
      this.#takePending();
      return null;
    }
    const record = this.#takePending();
    // The fragment belongs to whichever backend left a pending step; without one it is not ours.
    if (!record) return null;
    const url = new URL(location.href);
    url.hash = record.hash ?? '';
    history.replaceState(history.state, '', url.href);
    const parsed = z.safeParse(HostedMessage, { source: 'paywall-kit', type, ...(params.get('paywall-token') && { token: params.get('paywall-token') }) });
    if (!parsed.success) throw new BackendError('invalid_response', 'The hosted page returned an unreadable result.');
    if (parsed.data.type === 'cancelled') throw new BackendError('popup_closed', 'The hosted page was left before it finished.');
    this.#accept(parsed.data, record.step);

    const { target, idempotencyKey } = record;
    if (!target || !idempotencyKey) {
      if (record.step === 'topping-up') await this.#wallet.refresh(options.signal).catch(() => null);
      return null;
    }
    const product = productOf(target);
    const running = this.#join<AccessState>(product);
    if (running) return running;
    const attempt = new Attempt(target, product, idempotencyKey, options);
    attempt.progress('checking');
    return this.#track(product, attempt, () => this.#run(attempt));
  }
}

/** One purchase (or sign-in, or top-up) attempt: its key, its window, its progress reports. */
class Attempt {
  window: HostedWindow | null = null;
  /** The hosted step the placeholder opened in the click is for. */
  first: { step: PurchaseStep; url: string } | null = null;
  #unused = false;
  #step: PurchaseStep | null = null;
  readonly signal: AbortSignal | undefined;
  readonly #onProgress: ProgressListener | undefined;

  constructor(
    readonly target: PurchaseTarget | null,
    readonly product: string,
    readonly key: string | null,
    options: PurchaseOptions,
  ) {
    this.signal = options.signal;
    this.#onProgress = options.onProgress;
  }

  /** Reports a new step (once), or a window event during the current step. */
  progress(step: PurchaseStep, window?: HostedWindowEventType) {
    if (!window && step === this.#step) return;
    this.#step = step;
    if (!this.#onProgress) return;
    try {
      if (window) this.#onProgress(step, window);
      else this.#onProgress(step);
    } catch (error) {
      reportError(error);
    }
  }

  /** Opens a hosted window now (synchronously) and reports its events as progress of the current step. */
  openWindow(step: PurchaseStep, backendOrigin: string): HostedWindow {
    this.progress(step);
    const win = HostedWindow.open(backendOrigin);
    for (const type of ['opened', 'completed', 'closed', 'blocked'] as const) win.addEventListener(type, () => this.progress(this.#step ?? step, type));
    this.window = win;
    this.#unused = true;
    return win;
  }

  /**
   * The window for the next hosted step: the placeholder opened in the click, or the window of the
   * previous step while it is still open (one window carries the whole flow, so no second window is
   * opened after an `await`), else a new window (which the browser may block now).
   */
  takeWindow(step: PurchaseStep, backendOrigin: string): HostedWindow {
    const placeholder = this.#unused ? this.window : null;
    this.#unused = false;
    if (placeholder) {
      this.progress(step);
      // The reader closed the placeholder before it was used: that is a "no".
      if (!placeholder.blocked && placeholder.closed) throw new BackendError('popup_closed', 'The window was closed before it finished.');
      return placeholder;
    }
    const previous = this.window;
    if (previous && !previous.blocked && !previous.closed) {
      this.progress(step);
      return previous;
    }
    const win = this.openWindow(step, backendOrigin);
    this.#unused = false;
    return win;
  }
}
