import type { SessionRevocation } from '../domain/session-events';

/**
 * The notification sockets of this instance by reader, oldest first, each with the session it was
 * opened with, so that a reader's count can be held to `perReader` and the sockets of a session
 * that ended can be found. A socket counts until it is removed (its connection has closed), also
 * while it closes: a reader who opens sockets faster than their clients answer a close is still
 * over the limit, and the caller can drop those at once.
 */
export class ReaderSockets<Socket> {
  readonly #byCustomer = new Map<string, Map<Socket, string>>();

  constructor(private readonly perReader: number) {}

  /** Adds a reader's socket; returns that reader's oldest ones beyond the limit. */
  add(customerId: string, tokenHash: string, socket: Socket): Socket[] {
    let sockets = this.#byCustomer.get(customerId);
    if (!sockets) this.#byCustomer.set(customerId, (sockets = new Map()));
    sockets.set(socket, tokenHash);
    return [...sockets.keys()].slice(0, Math.max(0, sockets.size - this.perReader));
  }

  remove(customerId: string, socket: Socket): void {
    const sockets = this.#byCustomer.get(customerId);
    sockets?.delete(socket);
    if (sockets?.size === 0) this.#byCustomer.delete(customerId);
  }

  /** The sockets of the sessions that ended. */
  of({ customerId, tokenHash }: SessionRevocation): Socket[] {
    return [...(this.#byCustomer.get(customerId) ?? [])].filter(([, hash]) => tokenHash === undefined || hash === tokenHash).map(([socket]) => socket);
  }
}
