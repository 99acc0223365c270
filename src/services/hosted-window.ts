import * as z from 'zod/mini';
import { HostedMessage } from '../protocol';
import { BackendError, abortError } from './backend-error';

export type HostedWindowEventType = 'opened' | 'completed' | 'closed' | 'blocked';

/** What a HostedWindow reports; `message` is set on `completed`. */
export class HostedWindowEvent extends Event {
  readonly message: HostedMessage | undefined;

  constructor(type: HostedWindowEventType, message?: HostedMessage) {
    super(type);
    this.message = message;
  }
}

export interface HostedWindowEventMap {
  opened: HostedWindowEvent;
  completed: HostedWindowEvent;
  closed: HostedWindowEvent;
  blocked: HostedWindowEvent;
}

const WIDTH = 480;
const HEIGHT = 720;
/** How often a window is checked for having been closed by hand. */
const POLL_MS = 250;
/**
 * A page posts its message and then closes itself; the two reach this page by different paths,
 * so a window seen closed gets this long for its message to arrive before it counts as cancelled.
 */
const CLOSE_GRACE_MS = 300;

/** Popup features: a small window centred over the current one. */
function features(): string {
  const outer = typeof window === 'undefined' ? null : window;
  const left = outer ? Math.max(0, Math.round(outer.screenX + (outer.outerWidth - WIDTH) / 2)) : 0;
  const top = outer ? Math.max(0, Math.round(outer.screenY + (outer.outerHeight - HEIGHT) / 2)) : 0;
  return `popup,width=${WIDTH},height=${HEIGHT},left=${left},top=${top}`;
}

/** Options of `HostedWindow.result()`. */
export interface HostedResultOptions {
  signal?: AbortSignal;
  /**
   * Leave the window open after a success, for the next step of the same flow: the caller then
   * either `navigate()`s it to the next hosted page or `close()`s it when the flow ends. The hosted
   * page waits a few seconds for either before it closes itself. Default: close it at once.
   */
  keepOpen?: boolean;
}

/**
 * A backend-hosted page (sign-in, sign-up, top-up, checkout, 3-D Secure) in a popup. `open()` must
 * run synchronously inside the reader's click, because browsers block popups opened after an
 * `await`: it opens an `about:blank` placeholder that `navigate()` sends on once the URL is known.
 * One window may carry a whole flow (sign-in, then top-up or checkout): with `keepOpen` a success
 * leaves it open, the next `navigate()` shows the next step (reported as `opened` again) and the
 * flow `close()`s it at the end. A message counts only if it comes from the backend origin and from
 * this very window; a window closed by the reader is `closed`, never success.
 */
export class HostedWindow extends EventTarget {
  readonly backendOrigin: string;
  readonly blocked: boolean;
  /** The popup, or null when the browser blocked it. */
  readonly window: Window | null;
  #completed = false;
  #closedReported = false;
  /** A step finished and the window was kept open: the next `navigate()` starts the next step. */
  #stepDone = false;
  readonly #pending = new Set<(error: BackendError) => void>();

  /** Opens the placeholder now; check `blocked` (or listen for `blocked`) before relying on it. */
  static open(backendOrigin: string, name = '_blank'): HostedWindow {
    let opened: Window | null = null;
    try {
      opened = window.open('about:blank', name, features());
    } catch {
      opened = null; // sandboxed frames without allow-popups throw
    }
    return new HostedWindow(backendOrigin, opened);
  }

  constructor(backendOrigin: string, opened: Window | null) {
    super();
    this.backendOrigin = new URL(backendOrigin).origin;
    this.window = opened;
    this.blocked = opened === null;
    // Reported after the caller of open() had the chance to listen.
    queueMicrotask(() => this.dispatchEvent(new HostedWindowEvent(this.blocked ? 'blocked' : 'opened')));
  }

  get closed(): boolean {
    return !this.window || this.window.closed;
  }

  /** Sends the window to a page of the backend; any other origin is refused. */
  navigate(url: string): void {
    const target = new URL(url);
    if (target.origin !== this.backendOrigin) {
      throw new BackendError('configuration_error', `A hosted window only shows pages of ${this.backendOrigin}, not ${target.origin}.`);
    }
    if (this.closed) return;
    this.window!.location.replace(target.href);
    if (this.#stepDone) {
      // The window kept open after a step now shows the next one: for the reader it opened again.
      this.#stepDone = false;
      this.#closedReported = false;
      this.dispatchEvent(new HostedWindowEvent('opened'));
    }
  }

  focus(): void {
    if (!this.closed) this.window!.focus();
  }

  /**
   * The next success the hosted page reports (`signed-in`, `signed-up`, `topped-up`, …). Rejects
   * with `popup_closed` when the reader closes the window or cancels, `popup_blocked` when it
   * never opened, `aborted` when `signal` aborts (which also closes the window).
   */
  result(signalOrOptions?: AbortSignal | HostedResultOptions): Promise<HostedMessage> {
    const options: HostedResultOptions = signalOrOptions instanceof AbortSignal ? { signal: signalOrOptions } : signalOrOptions ?? {};
    const { signal, keepOpen = false } = options;
    if (this.blocked) return Promise.reject(new BackendError('popup_blocked', 'The browser blocked the window.'));
    if (signal?.aborted) {
      this.close();
      return Promise.reject(abortError(signal));
    }
    return new Promise<HostedMessage>((resolve, reject) => {
      let poll: ReturnType<typeof setInterval> | undefined;
      let grace: ReturnType<typeof setTimeout> | undefined;
      const cleanup = () => {
        clearInterval(poll);
        clearTimeout(grace);
        window.removeEventListener('message', onMessage);
        signal?.removeEventListener('abort', onAbort);
        this.#pending.delete(fail);
      };
      const fail = (error: BackendError) => {
        cleanup();
        reject(error);
      };
      const onMessage = (event: MessageEvent) => {
        if (event.origin !== this.backendOrigin || event.source !== this.window) return;
        const parsed = z.safeParse(HostedMessage, event.data);
        if (!parsed.success) return;
        cleanup();
        if (parsed.data.type === 'cancelled') {
          this.#reportClosed();
          this.#closeWindow();
          reject(closedError());
          return;
        }
        this.#completed = true;
        this.dispatchEvent(new HostedWindowEvent('completed', parsed.data));
        if (keepOpen) this.#stepDone = true;
        else this.#closeWindow();
        this.#completed = false; // the same window may be navigated to a next step
        resolve(parsed.data);
      };
      const onAbort = () => {
        fail(abortError(signal));
        this.close();
      };
      window.addEventListener('message', onMessage);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.add(fail);
      poll = setInterval(() => {
        if (!this.closed || grace !== undefined) return;
        grace = setTimeout(() => {
          this.#reportClosed();
          fail(closedError());
        }, CLOSE_GRACE_MS);
      }, POLL_MS);
    });
  }

  /** Closes the window; a result still awaited rejects with `popup_closed`. */
  close(): void {
    this.#closeWindow();
    if (this.#pending.size) {
      this.#reportClosed();
      for (const fail of [...this.#pending]) fail(closedError());
    }
  }

  #closeWindow() {
    try {
      if (!this.closed) this.window!.close();
    } catch {
      /* already gone */
    }
  }

  #reportClosed() {
    if (this.#closedReported || this.#completed) return;
    this.#closedReported = true;
    this.dispatchEvent(new HostedWindowEvent('closed'));
  }
}

export interface HostedWindow {
  addEventListener<K extends keyof HostedWindowEventMap>(type: K, listener: (event: HostedWindowEventMap[K]) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof HostedWindowEventMap>(type: K, listener: (event: HostedWindowEventMap[K]) => void, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}

function closedError(): BackendError {
  return new BackendError('popup_closed', 'The window was closed before it finished.');
}
