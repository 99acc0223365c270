import type { ReactiveController, ReactiveControllerHost } from 'lit';

/**
 * Keeps a host subscribed to a service while it is connected. `subscribe` returns the
 * unsubscribe function (or nothing when there is nothing to follow yet); call `refresh()` when
 * what it depends on (backend, product) changes.
 */
export class SubscriptionController implements ReactiveController {
  #unsubscribe: (() => void) | undefined;
  #connected = false;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly subscribe: () => (() => void) | undefined | void,
  ) {
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

  refresh(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = this.#connected ? this.subscribe() || undefined : undefined;
    this.host.requestUpdate();
  }
}
