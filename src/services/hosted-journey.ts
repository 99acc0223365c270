import * as z from 'zod/mini';
import { IdempotencyKey, type HostedMessage } from '../protocol';
import type { BackendClient } from './backend-client';
import { BackendError } from './backend-error';
import { HostedWindow, type HostedWindowEventType } from './hosted-window';
import { reportError } from './listeners';
import { PendingJourney, type PendingRecord } from './pending-journey';
import type { SessionStore } from './session-store';

/** `paying`: the hosted card checkout (and its 3-D Secure step) is open. */
export type PurchaseStep = 'checking' | 'signing-in' | 'working' | 'topping-up' | 'paying' | 'granted';

export type ProgressListener = (step: PurchaseStep, window?: HostedWindowEventType) => void;

export interface JourneyOptions {
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

/** What a journey carries through the redirect fallback: what is bought (absent for sign-in and top-up). */
export type JourneyTarget = NonNullable<PendingRecord['target']>;

/** Hosted windows one journey may go through (sign-in, top-up, a second top-up…) before it gives up. */
const MAX_HOSTED_ROUNDS = 4;

/** A fresh key per journey, in the server's IdempotencyKey alphabet (a UUID's 36 characters). */
export function newIdempotencyKey(): string {
  const key = typeof crypto.randomUUID === 'function'
    ? crypto.randomUUID()
    : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  return z.parse(IdempotencyKey, key);
}

export interface HostedJourneysDeps {
  client: BackendClient;
  session: SessionStore;
  /** Leaves the page for a hosted page when a popup is blocked (default `location.assign`). */
  navigate?: (url: string) => void;
}

/**
 * The hosted journeys of one backend on this page: a purchase, a subscription, a sign-in or a
 * top-up, each one window carrying its steps. A second start of what is already on its way joins
 * it (same promise, its window brought to the front); a product being bought in another tab is
 * refused with `purchase_in_progress` (Web Locks).
 */
export class HostedJourneys {
  readonly backendOrigin: string;
  readonly client: BackendClient;
  readonly session: SessionStore;
  readonly navigate: (url: string) => void;
  readonly pending: PendingJourney;
  readonly #running = new Map<string, { promise: Promise<unknown>; journey: HostedJourney }>();
  /** Hosted checkout windows open right now (their 3-D Secure step included). */
  paying = 0;

  constructor(deps: HostedJourneysDeps) {
    this.client = deps.client;
    this.session = deps.session;
    this.backendOrigin = deps.client.origin;
    this.navigate = deps.navigate ?? ((url) => location.assign(url));
    this.pending = new PendingJourney(deps.client.origin);
  }

  /** Whether a checkout of this page shows its card (and 3-D Secure) pages in its own window right now. */
  get checkoutOpen(): boolean {
    return this.paying > 0;
  }

  /** Whether the journey `key` (a product id, or `:sign-in`, `:top-up`, `:subscribe:<plan>`) is on its way on this page. */
  inProgress(key: string): boolean {
    return this.#running.has(key);
  }

  /** Brings the window of journey `key` back to the front, for a reader who lost it behind the page; false when none is open. */
  showWindow(key: string): boolean {
    const win = this.#running.get(key)?.journey.window;
    if (!win || win.closed) return false;
    win.focus();
    return true;
  }

  /** The journey already on its way under `key`, its window brought to the front. */
  join<T>(key: string): Promise<T> | null {
    const running = this.#running.get(key);
    if (!running) return null;
    this.showWindow(key);
    return running.promise as Promise<T>;
  }

  /** A new journey under `key`; `idempotencyKey` is null for journeys that charge nothing (sign-in, top-up). */
  begin(key: string, target: JourneyTarget | null, idempotencyKey: string | null, options: JourneyOptions): HostedJourney {
    return new HostedJourney(this, key, target, idempotencyKey, options);
  }

  /** Runs `journey` registered for joining, holding the cross-tab lock of a product; closes its window after. */
  run<T>(journey: HostedJourney, fn: () => Promise<T>): Promise<T> {
    const { key } = journey;
    const promise = this.#locked(key, fn).finally(() => {
      if (this.#running.get(key)?.promise === promise) this.#running.delete(key);
      journey.window?.close();
    });
    this.#running.set(key, { promise, journey });
    return promise;
  }

  #locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
    if (!locks || key.startsWith(':')) return fn();
    return locks.request(`paywall-kit:purchase:${this.backendOrigin}:${key}`, { ifAvailable: true }, (lock) => {
      if (!lock) throw new BackendError('purchase_in_progress', 'This is already being bought in another tab.');
      return fn();
    }) as Promise<T>;
  }
}

/**
 * One hosted journey: its idempotency key, its window (the placeholder opened in the click carries
 * every step: sign-in, top-up, checkout, 3-D Secure), its progress reports, and the redirect
 * fallback when the browser blocks the window.
 */
export class HostedJourney {
  window: HostedWindow | null = null;
  /** The hosted step the placeholder opened in the click is for. */
  first: { step: PurchaseStep; url: string } | null = null;
  #unused = false;
  #step: PurchaseStep | null = null;
  readonly signal: AbortSignal | undefined;
  readonly #onProgress: ProgressListener | undefined;
  readonly #journeys: HostedJourneys;

  constructor(
    journeys: HostedJourneys,
    readonly key: string,
    readonly target: JourneyTarget | null,
    readonly idempotencyKey: string | null,
    options: JourneyOptions,
  ) {
    this.#journeys = journeys;
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

  /** Opens a hosted window now (synchronously: call it inside the click) for `step`, its events reported as progress. */
  openWindow(step: PurchaseStep): HostedWindow {
    this.progress(step);
    const win = HostedWindow.open(this.#journeys.backendOrigin);
    for (const type of ['opened', 'completed', 'closed', 'blocked'] as const) win.addEventListener(type, () => this.progress(this.#step ?? step, type));
    this.window = win;
    this.#unused = true;
    return win;
  }

  /** Opens the placeholder for a first step whose page is known without asking the server (sign-in, top-up). */
  openFirst(step: PurchaseStep, url: string) {
    this.openWindow(step);
    this.first = { step, url };
  }

  /** Readers who never signed in on this device most likely have no account yet: they get sign-up. */
  signInUrl(fromServer?: string): string {
    const { client, session } = this.#journeys;
    if (!session.known) return client.hostedUrl('sign-up');
    return fromServer ? client.withHostedParams(fromServer, {}, 'sign-in') : client.hostedUrl('sign-in');
  }

  /** The step the placeholder was opened for, if any: run it before asking the server anything. */
  async startFirst(): Promise<void> {
    if (this.first) await this.step(this.first.step, this.first.url);
  }

  /**
   * A failure the reader can fix in a hosted window (sign in, top up): runs that step and answers
   * true, so the caller asks again with the same key; false when it is final.
   */
  async recover(failure: BackendError, round: number): Promise<boolean> {
    const signInNeeded = failure.status === 401 && (failure.code === 'sign_in_required' || failure.code === 'unauthenticated');
    const topUpNeeded = failure.status === 402 && failure.code === 'insufficient_funds';
    if ((!signInNeeded && !topUpNeeded) || round >= MAX_HOSTED_ROUNDS) return false;
    if (signInNeeded) {
      await this.step('signing-in', this.signInUrl(failure.signInUrl));
    } else {
      const params: Record<string, string> = failure.missing ? { amount: String(failure.missing) } : {};
      await this.step('topping-up', this.#journeys.client.withHostedParams(failure.topUpUrl ?? '', params, 'top-up'));
    }
    return true;
  }

  /**
   * One hosted step: in the placeholder opened in the click or the window of the previous step,
   * else in a new window (which the browser may block now), else by leaving the page. Stores the
   * token a sign-in hands over. The window stays open for a next step; the journey closes it at the end.
   */
  async step(step: PurchaseStep, url: string): Promise<HostedMessage> {
    const journeys = this.#journeys;
    this.progress(step);
    const win = this.#takeWindow(step);
    if (win.blocked) {
      // The server keeps the return URL of a checkout: the page comes back with its result.
      if (step === 'paying') journeys.navigate(url);
      else this.#redirect(step, url);
      throw new BackendError('popup_blocked', 'The browser blocked the window; continuing in this tab.');
    }
    win.navigate(url);
    if (step === 'paying') journeys.paying++;
    let message: HostedMessage;
    try {
      message = await win.result({ ...(this.signal && { signal: this.signal }), keepOpen: true });
    } finally {
      if (step === 'paying') journeys.paying--;
    }
    acceptSession(journeys.session, message, step);
    return message;
  }

  #redirect(step: PurchaseStep, url: string) {
    const here = this.#journeys.pending.save({ v: 1, at: Date.now(), step: step as PendingRecord['step'], ...(this.target && { target: this.target }), ...(this.idempotencyKey && { idempotencyKey: this.idempotencyKey }) });
    const target = new URL(url);
    target.searchParams.set('return', here);
    this.#journeys.navigate(target.href);
  }

  /**
   * The window for the next hosted step: the placeholder opened in the click, or the window of the
   * previous step while it is still open (one window carries the whole journey, so no second window
   * is opened after an `await`), else a new window (which the browser may block now).
   */
  #takeWindow(step: PurchaseStep): HostedWindow {
    const placeholder = this.#unused ? this.window : null;
    this.#unused = false;
    if (placeholder) {
      // The reader closed the placeholder before it was used: that is a "no".
      if (!placeholder.blocked && placeholder.closed) throw new BackendError('popup_closed', 'The window was closed before it finished.');
      return placeholder;
    }
    const previous = this.window;
    if (previous && !previous.blocked && !previous.closed) return previous;
    const win = this.openWindow(step);
    this.#unused = false;
    return win;
  }
}

/** Stores the session a hosted sign-in hands over; a sign-in step that ends without one is an error. */
export function acceptSession(session: SessionStore, message: HostedMessage, step: PurchaseStep) {
  if (message.type === 'signed-in' || message.type === 'signed-up') {
    if (!message.token) throw new BackendError('invalid_response', 'The sign-in page reported success without a session.');
    session.set(message.token);
  } else if (step === 'signing-in' && !session.signedIn) {
    throw new BackendError('invalid_response', `The sign-in page reported "${message.type}" without a session.`);
  }
}
