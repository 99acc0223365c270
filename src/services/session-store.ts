import { notify } from './listeners';

export type StorageKind = 'local' | 'session' | 'memory';

/** Where a SessionStore keeps its values: a Web Storage area, or a Map when storage is refused. */
interface Area {
  get(key: string): string | null;
  set(key: string, value: string): void;
  remove(key: string): void;
}

function memoryArea(): Area {
  const values = new Map<string, string>();
  return {
    get: (key) => values.get(key) ?? null,
    set: (key, value) => void values.set(key, value),
    remove: (key) => void values.delete(key),
  };
}

/**
 * Web Storage throws in some contexts (sandboxed frames, storage disabled, quota): the session
 * then lives in memory for this page instead of failing the purchase.
 */
function webArea(kind: 'local' | 'session'): { area: Area; storage: Storage } | null {
  try {
    const storage = kind === 'local' ? globalThis.localStorage : globalThis.sessionStorage;
    const probe = 'paywall-kit:probe';
    storage.setItem(probe, '1');
    storage.removeItem(probe);
    const fallback = memoryArea();
    return {
      storage,
      area: {
        get: (key) => {
          try {
            return storage.getItem(key) ?? fallback.get(key);
          } catch {
            return fallback.get(key);
          }
        },
        set: (key, value) => {
          try {
            storage.setItem(key, value);
            fallback.remove(key);
          } catch {
            fallback.set(key, value);
          }
        },
        remove: (key) => {
          fallback.remove(key);
          try {
            storage.removeItem(key);
          } catch {
            /* nothing stored there */
          }
        },
      },
    };
  } catch {
    return null;
  }
}

/**
 * The reader's bearer token for one backend origin, handed over by the hosted sign-in page.
 * Stored under `paywall-kit:session:<backendOrigin>`; with local storage, a sign-in or sign-out in
 * another tab arrives through the `storage` event.
 */
export class SessionStore {
  readonly backendOrigin: string;
  readonly storage: StorageKind;
  readonly key: string;
  readonly #knownKey: string;
  readonly #area: Area;
  readonly #listeners = new Set<(token: string | null) => void>();
  #token: string | null;

  constructor(backendOrigin: string, storage: StorageKind = 'local') {
    this.backendOrigin = backendOrigin;
    this.key = `paywall-kit:session:${backendOrigin}`;
    this.#knownKey = `paywall-kit:known:${backendOrigin}`;
    const web = storage === 'memory' ? null : webArea(storage);
    this.storage = web ? storage : 'memory';
    this.#area = web?.area ?? memoryArea();
    this.#token = this.#area.get(this.key) || null;
    if (web && storage === 'local' && typeof window !== 'undefined') {
      window.addEventListener('storage', (event) => {
        if (event.storageArea !== web.storage || (event.key !== this.key && event.key !== null)) return;
        this.#update(this.#area.get(this.key) || null);
      });
    }
  }

  get token(): string | null {
    return this.#token;
  }

  get signedIn(): boolean {
    return this.#token !== null;
  }

  /** Whether a reader has signed in to this backend on this device before (sign-in rather than sign-up). */
  get known(): boolean {
    return this.#token !== null || this.#area.get(this.#knownKey) === '1';
  }

  set(token: string): void {
    if (!token) throw new TypeError('A session token must not be empty.');
    this.#area.set(this.key, token);
    this.#area.set(this.#knownKey, '1');
    this.#update(token);
  }

  clear(): void {
    this.#area.remove(this.key);
    this.#update(null);
  }

  /** Called with the new token (null when signed out) after every change; returns the unsubscribe. */
  subscribe(listener: (token: string | null) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  #update(token: string | null) {
    if (token === this.#token) return;
    this.#token = token;
    notify(this.#listeners, token);
  }
}

