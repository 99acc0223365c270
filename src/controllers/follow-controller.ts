import type { ReactiveController, ReactiveControllerHost } from 'lit';

export interface FollowOptions<A extends readonly unknown[]> {
  /** What the subscription depends on (backend, product…): a change of any starts it over, like `@lit/task`'s `args`. */
  args: () => A;
  /** Subscribes to the host's services (reading what `args` names); returns the unsubscribe function, or nothing when there is nothing to follow yet. */
  follow: () => (() => void) | undefined | void;
}

/**
 * Keeps a host subscribed to its services while it is connected, and subscribed anew when its
 * `args` change. The host calls `sync()` first thing in `willUpdate` (or `shouldUpdate`), so what
 * the new subscription sets is rendered in the same update.
 */
export class FollowController<const A extends readonly unknown[]> implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  readonly #options: FollowOptions<A>;
  #unsubscribe: (() => void) | undefined;
  #connected = false;
  #args: A | null = null;

  constructor(host: ReactiveControllerHost, options: FollowOptions<A>) {
    this.#host = host;
    this.#options = options;
    host.addController(this);
  }

  hostConnected(): void {
    this.#connected = true;
    this.refresh();
  }

  hostDisconnected(): void {
    this.#connected = false;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** Subscribes anew if any of the args changed since the last subscription. */
  sync(): void {
    if (!this.#connected) return;
    const args = this.#options.args();
    if (!this.#args || args.length !== this.#args.length || args.some((value, i) => !Object.is(value, this.#args![i]))) this.refresh();
  }

  /** Subscribes anew now. */
  refresh(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    if (this.#connected) {
      const args = this.#options.args();
      this.#args = args;
      this.#unsubscribe = this.#options.follow() || undefined;
    }
    this.#host.requestUpdate();
  }
}
