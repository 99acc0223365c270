import * as z from 'zod/mini';
import { Currency, HostedMessage, IdempotencyKey, MinorUnits, OfferToken, ProductId } from '../protocol';
import { BackendError } from './backend-error';

/** A pending step older than this is abandoned, not resumed: nothing is bought without a recent click. */
const PENDING_TTL_MS = 60 * 60 * 1000;

const PendingTarget = z.object({
  product: z.optional(ProductId),
  offer: z.optional(OfferToken),
  price: z.optional(MinorUnits),
  currency: z.optional(Currency),
});

/** What survives the same-tab redirect to a hosted page, in sessionStorage. */
export const PendingRecord = z.object({
  v: z.literal(1),
  at: z.number(),
  step: z.enum(['checking', 'signing-in', 'working', 'topping-up', 'granted']),
  target: z.optional(PendingTarget),
  idempotencyKey: z.optional(IdempotencyKey),
  /** The page's own fragment, put back once the result fragment is read. */
  hash: z.optional(z.string()),
});
export type PendingRecord = z.infer<typeof PendingRecord>;

function sessionArea(): Storage | null {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}

/**
 * The redirect fallback of a hosted journey: a step that could not open its window leaves the page
 * for the hosted page, which comes back to this URL with its result in the fragment
 * (`#paywall-type=…&paywall-token=…`). One record per backend origin, in sessionStorage.
 */
export class PendingJourney {
  readonly #key: string;

  constructor(backendOrigin: string) {
    this.#key = `paywall-kit:pending:${backendOrigin}`;
  }

  /** Keeps `record` and returns the URL of this page (without its fragment) for the hosted page to come back to. */
  save(record: PendingRecord): string {
    const here = new URL(location.href);
    if (here.hash) record.hash = here.hash;
    here.hash = '';
    sessionArea()?.setItem(this.#key, JSON.stringify(record));
    return here.href;
  }

  /**
   * The step that left this page and the hosted page's result, once: the fragment is removed from
   * the address bar (the page's own fragment put back) and the record forgotten. Null when nothing
   * of this backend was pending, or the reader came back without a result (the step was abandoned).
   */
  takeReturn(): { record: PendingRecord; message: HostedMessage } | null {
    const params = new URLSearchParams(location.hash.slice(1));
    const type = params.get('paywall-type');
    const record = this.#take();
    // Without a pending step the fragment belongs to whichever backend left one: not ours.
    if (!type || !record) return null;
    const url = new URL(location.href);
    url.hash = record.hash ?? '';
    history.replaceState(history.state, '', url.href);
    const parsed = z.safeParse(HostedMessage, { source: 'paywall-kit', type, ...(params.get('paywall-token') && { token: params.get('paywall-token') }) });
    if (!parsed.success) throw new BackendError('invalid_response', 'The hosted page returned an unreadable result.');
    if (parsed.data.type === 'cancelled') throw new BackendError('popup_closed', 'The hosted page was left before it finished.');
    return { record, message: parsed.data };
  }

  #take(): PendingRecord | null {
    const area = sessionArea();
    const raw = area?.getItem(this.#key);
    if (!raw) return null;
    area!.removeItem(this.#key);
    try {
      const record = z.parse(PendingRecord, JSON.parse(raw));
      return Date.now() - record.at < PENDING_TTL_MS ? record : null;
    } catch {
      return null;
    }
  }
}
