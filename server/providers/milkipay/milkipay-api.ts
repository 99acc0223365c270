import * as z from 'zod/mini';
import { ApiError } from '../../errors';
import { caiMeaning, isCaiCode } from './cai-codes';

/*
 * The shapes Milkipay answers with. Milkipay publishes no API reference: only the endpoints and
 * the `Authorization: Bearer` of the code exchange are known, so every body below is an
 * assumption (documented in the README) and is checked at this boundary. Unknown fields pass.
 */

/** `POST /api/clients/processor-token`: the long-lived token that acts for the reader. */
export const ProcessorTokenResponse = z.object({ processorToken: z.string().check(z.minLength(1), z.maxLength(4096)) });

/** `GET /api/clients/status-user`: the reader's account; only `active` can receive payouts. */
export const StatusUserResponse = z.object({ status: z.string().check(z.minLength(1), z.maxLength(64)) });
export type StatusUserResponse = z.infer<typeof StatusUserResponse>;

/** `POST /api/clients/payout`. */
export const MilkipayPayoutResponse = z.object({
  payoutId: z.string().check(z.minLength(1), z.maxLength(256)),
  status: z.enum(['completed', 'pending']),
});
export type MilkipayPayoutResponse = z.infer<typeof MilkipayPayoutResponse>;

/** Every refusal: `{ code: "CAI-<group>-<nn>", message }`. */
export const CaiErrorBody = z.object({ code: z.string().check(z.refine(isCaiCode)), message: z.optional(z.string()) });

/** Milkipay could not be reached or answered unreadably: nothing is known about the outcome. */
export class MilkipayUnavailable extends ApiError {
  constructor(detail: string) {
    super(502, 'milkipay_unavailable', `Milkipay is not reachable right now (${detail}). Try again later.`);
  }
}

/** A definite refusal by Milkipay, mapped to our code; the raw `CAI-…` code is kept in `providerCode`. */
export function milkipayRefusal(raw: string): ApiError {
  const meaning = caiMeaning(raw);
  return new ApiError(meaning.status, meaning.code, `${meaning.message} (Milkipay ${raw})`, { providerCode: raw });
}

export interface MilkipayEndpoints {
  clientId: string;
  clientToken: string;
  oauthUrl: string;
  baseUrl: string;
}

const TIMEOUT_MS = 10_000;

/** Milkipay's server-to-server API. Tokens and the client token are never logged or put in errors. */
export class MilkipayClient {
  constructor(
    private readonly endpoints: MilkipayEndpoints,
    private readonly timeoutMs = TIMEOUT_MS,
  ) {}

  /** Where the reader authorizes the connection; it carries the client token, so only the backend builds it. */
  authorizeUrl(state: string, redirectUri: string): string {
    const url = new URL(`${this.endpoints.oauthUrl}/clients/authorize`);
    url.searchParams.set('client_id', this.endpoints.clientId);
    url.searchParams.set('client_token', this.endpoints.clientToken);
    url.searchParams.set('redirect_uri', redirectUri);
    url.searchParams.set('state', state);
    return url.href;
  }

  async exchangeCode(code: string): Promise<string> {
    const { processorToken } = await this.#call('POST', '/api/clients/processor-token', code, ProcessorTokenResponse);
    return processorToken;
  }

  statusUser(processorToken: string): Promise<StatusUserResponse> {
    return this.#call('GET', '/api/clients/status-user', processorToken, StatusUserResponse);
  }

  payout(processorToken: string, payout: { amount: number; currency: string; transactionId: string }): Promise<MilkipayPayoutResponse> {
    return this.#call('POST', '/api/clients/payout', processorToken, MilkipayPayoutResponse, payout);
  }

  async #call<T extends z.ZodMiniType>(method: 'GET' | 'POST', path: string, bearer: string, schema: T, body?: unknown): Promise<z.infer<T>> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.endpoints.baseUrl}${path}`, {
        method,
        headers: { Authorization: `Bearer ${bearer}`, Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'error',
      });
      text = await response.text();
    } catch (error) {
      throw new MilkipayUnavailable((error as Error).name === 'TimeoutError' ? 'timed out' : 'network error');
    }
    const json = parseJson(text);
    if (!response.ok) {
      const refusal = z.safeParse(CaiErrorBody, json);
      if (refusal.success) throw milkipayRefusal(refusal.data.code);
      if (response.status >= 500) throw new MilkipayUnavailable(`HTTP ${response.status}`);
      throw new ApiError(502, 'milkipay_error', `Milkipay refused ${path} with HTTP ${response.status} and no error code.`);
    }
    const parsed = z.safeParse(schema, json);
    if (!parsed.success) throw new MilkipayUnavailable(`unexpected answer to ${path}`);
    return parsed.data;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
