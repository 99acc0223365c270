/**
 * Sessions that ended before their expiry: one session (`tokenHash`, a sign-out), or, without it,
 * every session of the customer (an account closed or locked).
 */
export interface SessionRevocation {
  customerId: string;
  tokenHash?: string;
}

export type SessionRevocationListener = (revocation: SessionRevocation) => void;

/**
 * Tells what holds a session open (the notification sockets) that it has ended, once the end is
 * in the database. An implementation over Redis pub/sub can replace it to reach other instances.
 */
export interface SessionEvents {
  publish(revocation: SessionRevocation): void;
  subscribe(listener: SessionRevocationListener): () => void;
}

export class InProcessSessionEvents implements SessionEvents {
  readonly #listeners = new Set<SessionRevocationListener>();

  publish(revocation: SessionRevocation): void {
    for (const listener of this.#listeners) listener(revocation);
  }

  subscribe(listener: SessionRevocationListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
