import { MAX_PRODUCTS_PER_CONTENT_REQUEST, type ContentFragment } from '../protocol';
import type { BackendClient } from './backend-client';
import { nextTask } from './next-task';
import { abortError, toBackendError, type BackendError } from './backend-error';

interface Waiter {
  resolve: (html: string) => void;
  reject: (error: BackendError) => void;
  signal: AbortSignal | undefined;
}

/**
 * Loads paid fragments from the backend. Every `load()` made in the same task is answered
 * together: one product by GET /v1/content/<product>, several by POST /v1/content (200 per
 * request), so a page that unlocks a hundred parts at once asks once, not a hundred times.
 * Grants often arrive one message at a time (the notification socket replays them on connect),
 * so while a request is on its way the next loads wait for it and then go together.
 */
export class ContentLoader {
  readonly #client: BackendClient;
  #queue = new Map<string, Waiter[]>();
  /** Fragments an access answer brought along, for the parts its grants are about to open. */
  #offered = new Map<string, string>();
  #flushScheduled = false;
  #busy = false;

  constructor(client: BackendClient) {
    this.#client = client;
  }

  /** The paid HTML fragment of `product`; rejects with the server's error (402 `access_required`, …) or `aborted`. */
  load(product: string, signal?: AbortSignal): Promise<string> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      const waiters = this.#queue.get(product) ?? [];
      waiters.push({ resolve, reject, signal });
      this.#queue.set(product, waiters);
      signal?.addEventListener('abort', () => reject(abortError(signal)), { once: true });
      this.#schedule();
    });
  }

  /**
   * Keeps the fragments an access answer carried for the parts its grants open next (`take`, each
   * once); the rest are dropped by `sendQueued()`, once the answer has been told to all.
   */
  offer(fragments: ContentFragment[]): void {
    for (const { product, html } of fragments) this.#offered.set(product, html);
  }

  /** The fragment of `product` that an access answer just brought, once, or undefined. */
  take(product: string): string | undefined {
    const html = this.#offered.get(product);
    this.#offered.delete(product);
    return html;
  }

  /**
   * Sends the loads queued so far now instead of in the next task: an access answer has just
   * unlocked them, and the request need not wait for the elements to render that answer.
   */
  sendQueued(): void {
    this.#offered.clear();
    if (this.#queue.size && !this.#busy) this.#flush();
  }

  #schedule() {
    if (this.#flushScheduled || this.#busy) return;
    this.#flushScheduled = true;
    // A macrotask, like access checks: elements unlocked by one answer reach load() through lit updates and tasks.
    nextTask(() => this.#flush());
  }

  #flush() {
    this.#flushScheduled = false;
    // Already sent by sendQueued(): what came since waits for that request.
    if (this.#busy || !this.#queue.size) return;
    const batch = this.#queue;
    this.#queue = new Map();
    const products = [...batch.keys()];
    const requests: Array<Promise<void>> = [];
    if (products.length === 1) requests.push(this.#single(products[0]!, batch.get(products[0]!)!));
    else for (let i = 0; i < products.length; i += MAX_PRODUCTS_PER_CONTENT_REQUEST) requests.push(this.#many(products.slice(i, i + MAX_PRODUCTS_PER_CONTENT_REQUEST), batch));
    this.#busy = true;
    void Promise.all(requests).then(() => {
      this.#busy = false;
      if (this.#queue.size) this.#schedule();
    });
  }

  #single(product: string, waiters: Waiter[]): Promise<void> {
    const signal = whileAnyWaits(waiters);
    return this.#client.content(product, signal).then((html) => settle(waiters, html), (error) => settle(waiters, toBackendError(error, signal)));
  }

  async #many(products: string[], batch: Map<string, Waiter[]>): Promise<void> {
    const waiters = products.flatMap((product) => batch.get(product)!);
    const signal = whileAnyWaits(waiters);
    let fragments: Map<string, string>;
    try {
      fragments = new Map((await this.#client.contents(products, signal)).map((f) => [f.product, f.html]));
    } catch (error) {
      const failure = toBackendError(error, signal);
      for (const product of products) settle(batch.get(product)!, failure);
      return;
    }
    // A part left out was revoked meanwhile or has no backend content: its own answer says which.
    for (const product of products) {
      const html = fragments.get(product);
      if (html !== undefined) settle(batch.get(product)!, html);
      else void this.#single(product, batch.get(product)!);
    }
  }
}

function settle(waiters: Waiter[], outcome: string | BackendError) {
  for (const w of waiters) typeof outcome === 'string' ? w.resolve(outcome) : w.reject(outcome);
}

/** A signal that aborts once every waiter has given up, so a request nobody waits for stops. */
function whileAnyWaits(waiters: Waiter[]): AbortSignal | undefined {
  if (waiters.some((w) => !w.signal)) return undefined;
  const controller = new AbortController();
  let waiting = waiters.length;
  for (const { signal } of waiters) {
    if (signal!.aborted) waiting--;
    else signal!.addEventListener('abort', () => --waiting === 0 && controller.abort(signal!.reason), { once: true });
  }
  if (waiting === 0) controller.abort();
  return controller.signal;
}
