import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ErrorCode } from '../../../src/protocol';

/** What a Milkipay `CAI-<group>-<nn>` error means here: our error code, HTTP status and message. */
export interface CaiMeaning {
  code: ErrorCode;
  status: ContentfulStatusCode;
  message: string;
}

/**
 * The codes whose meaning is known (from the integration brief; Milkipay publishes no reference).
 * Every other code is mapped by its group only, and the raw code travels with the error, because
 * inventing a meaning for an undocumented code would mislead whoever reads it.
 */
const KNOWN: Record<string, CaiMeaning> = {
  'CAI-100-04': { code: 'account_locked', status: 423, message: "The reader's Milkipay account is locked." },
  'CAI-200-05': { code: 'merchant_balance_too_low', status: 402, message: "The merchant's Milkipay balance is too low for this payout." },
};

const GROUPS: Record<string, CaiMeaning> = {
  '100': { code: 'milkipay_account_error', status: 422, message: "Milkipay refused the request because of the reader's account." },
  '200': { code: 'milkipay_payment_error', status: 402, message: 'Milkipay refused the payment.' },
};

const OTHER: CaiMeaning = { code: 'milkipay_error', status: 502, message: 'Milkipay refused the request.' };

const CAI_CODE = /^CAI-(\d{3})-(\d{2})$/;

export const isCaiCode = (value: string): boolean => CAI_CODE.test(value);

/** Group 100 is about the reader's account: such a refusal also marks the wallet connection as failing. */
export const isAccountProblem = (raw: string): boolean => CAI_CODE.exec(raw)?.[1] === '100';

export function caiMeaning(raw: string): CaiMeaning {
  return KNOWN[raw] ?? GROUPS[CAI_CODE.exec(raw)?.[1] ?? ''] ?? OTHER;
}
