import type { SessionRevocation } from '../domain/session-events';

/**
 * The open notification sockets of this instance by reader, oldest first, each with the session it
 * was opened with: a reader holds at most `perReader` of them, and those of a session that ended
 * can be found. A socket handed back to be closed is no longer counted.
 */
export class ReaderSockets<Socket> {
  readonly #byCustomer = new Map<string, Map<Socket, string>>();

  constructor(private readonly perReader: number) {}

  /** Adds a reader's socket; returns that reader's oldest ones beyond the limit. */
  add(customerId: string, tokenHash: string, socket: Socket): Socket[] {
    let sockets = this.#byCustomer.get(customerId);
    if (!sockets) this.#byCustomer.set(customerId, (sockets = new Map()));
    sockets.set(socket, tokenHash);
    const oldest = [...sockets.keys()].slice(0, Math.max(0, sockets.size - this.perReader));
    for (const old of oldest) sockets.delete(old);
    return oldest;
  }

  remove(customerId: string, socket: Socket): void {
    const sockets = this.#byCustomer.get(customerId);
    sockets?.delete(socket);
    if (sockets?.size === 0) this.#byCustomer.delete(customerId);
  }

  /** Removes and returns the sockets of the sessions that ended. */
  revoked({ customerId, tokenHash }: SessionRevocation): Socket[] {
    const ended = [...(this.#byCustomer.get(customerId) ?? [])].filter(([, hash]) => tokenHash === undefined || hash === tokenHash).map(([socket]) => socket);
    for (const socket of ended) this.remove(customerId, socket);
    return ended;
  }
}
