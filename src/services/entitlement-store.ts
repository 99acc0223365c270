import * as z from 'zod/mini';
import { AccessGrant, AccessGrantedResource, AccessRevokedResource, MAX_PRODUCTS_PER_ACCESS_CHECK, ProductId, type ContentFragment, type Notification } from '../protocol';
import type { BackendClient } from './backend-client';
import { BackendError, toBackendError } from './backend-error';
import { notify } from './listeners';
import { nextTask } from './next-task';
import type { NotificationSocket } from './notification-socket';
import type { SessionStore } from './session-store';

export type AccessSource = 'check' | 'purchase' | 'notification' | 'other-tab' | 'expiry' | 'sign-out';

export interface AccessState {
  product: string;
  granted: boolean;
  expiresAt: string | null;
  source: AccessSource;
}

export interface EntitlementStoreOptions {
  /** Clock for expiry decisions (ms since the epoch); tests move it. */
  now?: () => number;
  /** Live access.granted / access.revoked; subscribed while this store has listeners. */
  notifications?: NotificationSocket;
  /** Receives the paid fragments an answer carried (see `check`), before any subscriber hears of its grants. */
  fragments?: (fragments: ContentFragment[]) => void;
  /** Called once a server answer has been told to every subscriber (to send what it unlocked at once). */
  afterAnswer?: () => void;
}

/** setTimeout fires at once for delays above 2^31-1 ms; longer waits are chained. */
const MAX_TIMEOUT = 2 ** 31 - 1;

/** What tabs tell each other: a grant, for the session it belongs to. */
const TabMessage = z.object({
  kind: z.literal('access'),
  session: z.string(),
  grant: AccessGrant,
});
type TabMessage = z.infer<typeof TabMessage>;

interface Waiter {
  resolve: (state: AccessState) => void;
  reject: (error: BackendError) => void;
}

/**
 * Tabs compare session fingerprints so that a grant for one reader is never applied in a tab
 * where another reader is signed in (sessionStorage sessions differ per tab). Not a secret: a
 * 32-bit FNV-1a of the token.
 */
function fingerprint(token: string | null): string {
  if (!token) return '';
  let hash = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) hash = Math.imul(hash ^ token.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(36);
}

/**
 * Which products the reader may read, for one backend. Every `check()` made in the same task is
 * answered by one POST /v1/access (200 products per request); answers are kept until they expire,
 * and a timer re-locks a product at its `expiresAt`. Purchases, notifications and other tabs
 * update it live; sign-out re-locks everything, sign-in re-checks what is known.
 */
export class EntitlementStore {
  readonly #client: BackendClient;
  readonly #session: SessionStore;
  readonly #now: () => number;
  readonly #notifications: NotificationSocket | undefined;
  readonly #states = new Map<string, AccessState>();
  readonly #listeners = new Map<string, Set<(state: AccessState) => void>>();
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Products asked for in the current task, flushed as one batch. */
  #queue = new Map<string, Waiter[]>();
  /** Products once checked with `content`: every answer about them, re-checks included, brings their fragments. */
  readonly #shown = new Set<string>();
  #flushScheduled = false;
  /** Checks on their way to the server, joined by later checks of the same product. */
  readonly #inFlight = new Map<string, Promise<AccessState>>();
  /** Bumped on every change of a product's state, so an answer older than the change is dropped. */
  readonly #versions = new Map<string, number>();
  /** The session generation each state was learnt in: a "no" holds only for the session that got it. */
  readonly #learntIn = new Map<string, number>();
  /** Bumped on every session change; answers for an older session are dropped. */
  #generation = 0;
  #token: string | null;
  #channel: BroadcastChannel | null = null;
  #stopNotifications: (() => void) | null = null;
  /** The first answer's notification cursor, which the socket's first connection waits for (null: no answer to go by). */
  #cursor: { known: Promise<number | null>; settle: (cursor: number | null) => void } | null = null;
  readonly #afterAnswer: (() => void) | undefined;
  readonly #fragments: ((fragments: ContentFragment[]) => void) | undefined;

  constructor(client: BackendClient, session: SessionStore, options: EntitlementStoreOptions = {}) {
    this.#client = client;
    this.#session = session;
    this.#now = options.now ?? Date.now;
    this.#notifications = options.notifications;
    this.#afterAnswer = options.afterAnswer;
    this.#fragments = options.fragments;
    this.#token = session.token;
    session.subscribe((token) => this.#sessionChanged(token));
    if (typeof BroadcastChannel === 'function') {
      this.#channel = new BroadcastChannel(`paywall-kit:${client.origin}`);
      this.#channel.onmessage = (event: MessageEvent) => this.#fromOtherTab(event.data);
    }
  }

  get(product: string): AccessState | undefined {
    return this.#states.get(product);
  }

  /**
   * The reader's access to `product`, from the cache while it holds, else from the server in one
   * batched request with every other product checked in this task. Signed out, nothing is granted
   * and nothing is sent. With `content`, an answer that grants it also brings its paid fragment
   * (handed to `options.fragments`), so showing it takes no second round trip.
   */
  check(product: string, options: { content?: boolean } = {}): Promise<AccessState> {
    if (!z.safeParse(ProductId, product).success) {
      return Promise.reject(new BackendError('configuration_error', `"${product}" is not a valid product id (1–128 letters, digits, ".", "_", ":" or "-").`));
    }
    if (options.content) this.#shown.add(product);
    const known = this.#fresh(product);
    if (known) return Promise.resolve(known);
    if (!this.#session.token) return Promise.resolve(this.#set({ product, granted: false, expiresAt: null, source: 'check' }, false));
    const pending = this.#inFlight.get(product);
    if (pending) return pending;
    const promise = new Promise<AccessState>((resolve, reject) => {
      const waiters = this.#queue.get(product) ?? [];
      waiters.push({ resolve, reject });
      this.#queue.set(product, waiters);
    });
    this.#inFlight.set(product, promise);
    const forget = () => this.#inFlight.get(product) === promise && this.#inFlight.delete(product);
    promise.then(forget, forget);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      // A macrotask, not a microtask: elements that connect in this task reach check() through
      // a few promise hops (lit updates, tasks), and all of them belong in the same request.
      nextTask(() => this.#flushScheduled && void this.#flush());
    }
    return promise;
  }

  /**
   * Sends the checks queued so far at once instead of at the end of the task: the elements that
   * were in the page when the kit loaded have just upgraded together, and their request need not
   * wait for their first render. Checks made later in the task go together in the next request.
   */
  sendQueued(): void {
    if (this.#queue.size) void this.#flush();
  }

  /** Records a grant or a revocation (from a purchase, a notification, …) and tells subscribers. */
  apply(grant: { product: string; granted: boolean; expiresAt: string | null }, source: AccessSource): void {
    const state = this.#set({ product: grant.product, granted: grant.granted, expiresAt: grant.expiresAt, source });
    if ((source === 'purchase' || source === 'notification') && this.#channel && this.#token) {
      const message: TabMessage = { kind: 'access', session: fingerprint(this.#token), grant: { product: state.product, granted: state.granted, expiresAt: state.expiresAt } };
      this.#channel.postMessage(message);
    }
  }

  /** Calls `listener` with every new state of `product`; returns the unsubscribe. */
  subscribe(product: string, listener: (state: AccessState) => void): () => void {
    let set = this.#listeners.get(product);
    if (!set) this.#listeners.set(product, (set = new Set()));
    set.add(listener);
    this.#watchNotifications();
    return () => {
      set.delete(listener);
      if (!set.size && this.#listeners.get(product) === set) this.#listeners.delete(product);
      this.#watchNotifications();
    };
  }

  /**
   * Asks the server again about every product on the page that was not granted (one batched
   * request): a subscription or payment completed where no notification could say so.
   */
  refresh(): void {
    this.#generation++;
    for (const product of new Set([...this.#states.keys(), ...this.#listeners.keys()])) this.check(product).catch(() => undefined);
  }

  /** Re-locks every known product (as on sign-out) and forgets cached answers. */
  clear(): void {
    this.#generation++;
    for (const product of [...this.#states.keys()]) this.#set({ product, granted: false, expiresAt: null, source: 'sign-out' });
  }

  /** Stops listening to other tabs and notifications and cancels re-lock timers. */
  dispose(): void {
    this.#channel?.close();
    this.#channel = null;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#listeners.clear();
    this.#watchNotifications();
  }

  /** A cached state that still answers a check: a grant not yet expired, or a server's "no" in this session. */
  #fresh(product: string): AccessState | undefined {
    const state = this.#states.get(product);
    if (!state) return undefined;
    if (state.granted) return state.expiresAt === null || Date.parse(state.expiresAt) > this.#now() ? state : undefined;
    return state.source === 'expiry' || state.source === 'sign-out' || this.#learntIn.get(product) !== this.#generation ? undefined : state;
  }

  async #flush() {
    this.#flushScheduled = false;
    const batch = this.#queue;
    this.#queue = new Map();
    const products = [...batch.keys()];
    const generation = this.#generation;
    const versions = new Map(products.map((p) => [p, this.#versions.get(p) ?? 0]));
    const chunks: string[][] = [];
    for (let i = 0; i < products.length; i += MAX_PRODUCTS_PER_ACCESS_CHECK) chunks.push(products.slice(i, i + MAX_PRODUCTS_PER_ACCESS_CHECK));
    await Promise.all(chunks.map(async (chunk) => {
      let grants: AccessGrant[] | null = null;
      let failure: BackendError | null = null;
      try {
        // A check queued before its product was shown (a button's, say) asks for the fragment too.
        const answer = await this.#client.access(chunk, { content: chunk.filter((p) => this.#shown.has(p)) });
        grants = answer.access;
        if (answer.content && generation === this.#generation) this.#fragments?.(answer.content);
        // Also one read for a previous reader bounds what this one missed: ids only increase.
        this.#cursor?.settle(answer.notificationCursor ?? null);
      } catch (error) {
        failure = toBackendError(error);
        this.#cursor?.settle(null);
      }
      const byProduct = new Map(grants?.map((g) => [g.product, g]));
      for (const product of chunk) {
        const waiters = batch.get(product) ?? [];
        const settle = (outcome: AccessState | BackendError) => {
          for (const w of waiters) outcome instanceof BackendError ? w.reject(outcome) : w.resolve(outcome);
        };
        if (generation !== this.#generation) {
          // The session changed while this was asked: the answer belongs to someone else.
          this.#inFlight.delete(product);
          this.check(product).then(settle, settle);
          continue;
        }
        if (failure) {
          settle(failure);
          continue;
        }
        const grant = byProduct.get(product);
        if (!grant) {
          settle(new BackendError('invalid_response', `The payment service did not answer for "${product}".`));
          continue;
        }
        // A purchase or a notification that landed meanwhile is newer than this answer.
        const changed = (this.#versions.get(product) ?? 0) !== versions.get(product);
        settle(changed ? this.#states.get(product)! : this.#set({ ...grant, source: 'check' }));
      }
      if (grants) this.#afterAnswer?.();
    }));
  }

  /** Stores a state (locked already if it expired), arms its re-lock timer, tells subscribers if it changed. */
  #set(next: AccessState, bump = true): AccessState {
    const { product } = next;
    const expired = next.granted && next.expiresAt !== null && !(Date.parse(next.expiresAt) > this.#now());
    const state: AccessState = expired ? { ...next, granted: false, source: 'expiry' } : next;
    const previous = this.#states.get(product);
    this.#states.set(product, state);
    this.#learntIn.set(product, this.#generation);
    if (bump) this.#versions.set(product, (this.#versions.get(product) ?? 0) + 1);
    this.#arm(state);
    if (!previous || previous.granted !== state.granted || previous.expiresAt !== state.expiresAt || previous.source !== state.source) {
      const listeners = this.#listeners.get(product);
      if (listeners) notify(listeners, state);
    }
    return state;
  }

  #arm(state: AccessState) {
    const timer = this.#timers.get(state.product);
    if (timer !== undefined) clearTimeout(timer);
    this.#timers.delete(state.product);
    if (!state.granted || state.expiresAt === null) return;
    const at = Date.parse(state.expiresAt);
    const wait = Math.min(Math.max(at - this.#now(), 0), MAX_TIMEOUT);
    this.#timers.set(state.product, setTimeout(() => {
      this.#timers.delete(state.product);
      if (this.#states.get(state.product) !== state) return;
      // Chained waits (past 24.8 days) and clocks that ran slow land here early: wait again.
      if (at > this.#now()) this.#arm(state);
      else this.#set({ ...state, granted: false, source: 'expiry' });
    }, wait));
  }

  #sessionChanged(token: string | null) {
    const previous = this.#token;
    this.#token = token;
    this.#generation++;
    if (!token) {
      this.clear();
      return;
    }
    // Signed in (or another reader): what was known is asked again, for this reader, and the
    // reader's socket waits for that answer's cursor instead of replaying the reader's history.
    this.#cursor = null;
    if (this.#stopNotifications) {
      this.#stopNotifications();
      this.#stopNotifications = null;
      this.#watchNotifications();
    }
    const known = [...new Set([...this.#states.keys(), ...this.#listeners.keys()])];
    if (previous) for (const product of known) this.#set({ product, granted: false, expiresAt: null, source: 'sign-out' });
    for (const product of known) this.check(product).catch(() => undefined);
  }

  #fromOtherTab(data: unknown) {
    const parsed = z.safeParse(TabMessage, data);
    if (!parsed.success || !this.#token || parsed.data.session !== fingerprint(this.#token)) return;
    this.#set({ ...parsed.data.grant, source: 'other-tab' });
  }

  /**
   * Holds a notification subscription while anyone listens, so the socket opens only when needed;
   * a first connection waits for the first answer and resumes after its cursor, so it does not
   * replay grants the answer already holds.
   */
  #watchNotifications() {
    if (!this.#notifications) return;
    if (this.#listeners.size && !this.#stopNotifications) {
      this.#stopNotifications = this.#notifications.subscribe((n) => this.#fromNotification(n), { after: this.#firstCursor() });
    } else if (!this.#listeners.size && this.#stopNotifications) {
      this.#stopNotifications();
      this.#stopNotifications = null;
    }
  }

  /**
   * The first answer's cursor. A subscriber checks right after subscribing, so its request is
   * queued (or on its way) by the next task; if none is, no answer is coming to wait for.
   */
  #firstCursor(): Promise<number | null> {
    if (!this.#cursor) {
      let settle!: (cursor: number | null) => void;
      const known = new Promise<number | null>((resolve) => (settle = resolve));
      const cursor = (this.#cursor = { known, settle });
      nextTask(() => {
        if (!this.#queue.size && !this.#inFlight.size) cursor.settle(null);
      });
    }
    return this.#cursor.known;
  }

  #fromNotification(notification: Notification) {
    if (notification.type === 'access.granted') {
      const resource = z.safeParse(AccessGrantedResource, notification.resource);
      if (!resource.success) return;
      const { product, expiresAt } = resource.data;
      const until = Date.parse(expiresAt);
      const known = this.#states.get(product);
      // A first connection replays the whole history: a grant that is already over, or the very
      // grant the page already holds (from the access check), changes nothing.
      if (until > this.#now() && !(known?.granted && known.expiresAt !== null && Date.parse(known.expiresAt) === until)) {
        this.apply({ product, granted: true, expiresAt }, 'notification');
      }
    } else if (notification.type === 'access.revoked') {
      const resource = z.safeParse(AccessRevokedResource, notification.resource);
      if (resource.success) this.apply({ product: resource.data.product, granted: false, expiresAt: null }, 'notification');
    }
  }
}
