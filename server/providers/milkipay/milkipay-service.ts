import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as z from 'zod/mini';
import type { Logger } from 'pino';
import type { WalletConnection } from '../../../src/protocol';
import type { Clock } from '../../clock';
import type { ServerConfig } from '../../config';
import { sha256 } from '../../domain/tokens';
import { ApiError } from '../../errors';
import type { DatabaseHandle } from '../../store/connect';
import type { ProviderTokens } from '../provider-tokens';
import { SecretBox } from '../secret-box';
import { isAccountProblem } from './cai-codes';
import { MilkipayClient, MilkipayUnavailable } from './milkipay-api';
import type { PayoutRequest, PayoutResponse } from './payout-request';

const PROVIDER = 'milkipay';
const TOKEN = { provider: PROVIDER, kind: 'processor' } as const;
/** The connect link is opened right after the reader's click; the authorization may take a while longer. */
const LINK_TTL_MS = 5 * 60_000;
const STATE_TTL_MS = 30 * 60_000;

/** What the sealed connect link and the OAuth `state` carry: the reader, where to report, until when. */
const Flow = z.object({ customer: z.string(), origin: z.nullable(z.string()), expires: z.number(), lang: z.optional(z.string()), nonce: z.optional(z.string()) });
type Flow = z.infer<typeof Flow>;

/** A payout answer as stored and replayed. */
export interface PayoutOutcome {
  status: 200 | ApiError['status'];
  body: PayoutResponse | ReturnType<ApiError['toBody']>;
}

/**
 * Milkipay: a reader connects their wallet in the hosted window (authorize, then the code is
 * exchanged here for the processor token, stored sealed, and the account checked), and the
 * merchant's server pays out to it. The client token and processor tokens never leave the backend
 * except where Milkipay requires them (the authorize URL, the Authorization header).
 */
export class MilkipayService {
  readonly #client: MilkipayClient;
  readonly #box: SecretBox;

  constructor(
    private readonly config: ServerConfig,
    private readonly database: DatabaseHandle,
    private readonly clock: Clock,
    private readonly tokens: ProviderTokens,
    private readonly logger: Logger,
  ) {
    if (!config.providers.milkipay) throw new Error('MilkipayService needs providers.milkipay in the config');
    this.#client = new MilkipayClient(config.providers.milkipay);
    // The config demands the encryption key whenever Milkipay is on; links get a key of their own.
    this.#box = new SecretBox(createHmac('sha256', config.encryptionKey!).update('paywall-kit/milkipay-flow/v1').digest());
  }

  /** A short-lived backend link that starts the connection for this reader (opened in the hosted window). */
  connectLink(customerId: string, origin: string | null): string {
    const flow: Flow = { customer: customerId, origin, expires: this.clock.now().getTime() + LINK_TTL_MS };
    const url = new URL('/hosted/milkipay/connect', this.config.publicBaseUrl);
    url.searchParams.set('link', this.#box.seal(JSON.stringify(flow), 'connect-link'));
    return url.href;
  }

  /** Milkipay's authorize URL for the reader of a valid link, and the nonce the browser must hold at the callback. */
  authorize(link: string, lang: string): { authorizeUrl: string; nonce: string } | null {
    const flow = this.#open(link, 'connect-link');
    if (!flow) return null;
    const nonce = randomBytes(18).toString('base64url');
    const state = this.#box.seal(JSON.stringify({ ...flow, lang, nonce, expires: this.clock.now().getTime() + STATE_TTL_MS } satisfies Flow), 'state');
    return { authorizeUrl: this.#client.authorizeUrl(state, this.callbackUrl), nonce };
  }

  get callbackUrl(): string {
    return new URL('/hosted/milkipay/callback', this.config.publicBaseUrl).href;
  }

  /** The flow of a callback: a state we sealed, unexpired, from the browser that started it (CSRF). */
  flowOf(state: string, nonce: string | undefined): { customer: string; origin: string | null; lang: string | undefined } | null {
    const flow = this.#open(state, 'state');
    if (!flow?.nonce || !nonce) return null;
    const a = Buffer.from(flow.nonce);
    const b = Buffer.from(nonce);
    return a.length === b.length && timingSafeEqual(a, b) ? { customer: flow.customer, origin: flow.origin, lang: flow.lang } : null;
  }

  /** Exchanges the code for the processor token, stores it sealed and checks the account; the connection as it now stands. */
  async connect(customerId: string, code: string): Promise<WalletConnection> {
    let token: string;
    try {
      token = await this.#client.exchangeCode(code);
    } catch (error) {
      return this.#recordFailure(customerId, error);
    }
    await this.tokens.store(this.database.db, { customerId, ...TOKEN }, token, this.clock.now());
    return this.check(customerId, token);
  }

  /** Asks Milkipay about the account behind the stored token and records the answer. */
  async check(customerId: string, token: string): Promise<WalletConnection> {
    try {
      const { status } = await this.#client.statusUser(token);
      if (status !== 'active') {
        return this.#record(customerId, { code: 'milkipay_account_error', message: `Milkipay reports the account as "${status}": it cannot receive payouts.` });
      }
      return this.#record(customerId, null);
    } catch (error) {
      return this.#recordFailure(customerId, error);
    }
  }

  async connections(customerId: string): Promise<WalletConnection[]> {
    const row = await this.database.db.selectFrom('wallet_connections').selectAll().where('customer_id', '=', customerId).where('provider', '=', PROVIDER).executeTakeFirst();
    if (!row) return [{ provider: PROVIDER, status: 'not_connected' }];
    return [toConnection(row)];
  }

  /**
   * Pays out once per transaction id: the first answer (success or Milkipay's refusal) is stored
   * and replayed; a different body under the same id is a conflict. A refusal about the reader's
   * account (CAI-100-*) also marks their connection as failing. When Milkipay cannot be reached
   * nothing is kept, so a retry asks again (with the same transactionId, which Milkipay dedupes).
   */
  async payout(request: PayoutRequest): Promise<PayoutOutcome> {
    const { db } = this.database;
    // Hex, as payouts stored since the first one: a retry must find its earlier hash equal.
    const requestHash = sha256(JSON.stringify([request.customer, request.amount, request.currency]), 'hex');
    const previous = await this.#replay(request.transactionId, requestHash);
    if (previous) return previous;
    const token = await this.tokens.read(db, { customerId: request.customer, ...TOKEN });
    if (!token) throw new ApiError(409, 'wallet_not_connected', `Customer ${request.customer} has no connected Milkipay wallet. Nothing was paid out.`);

    const now = this.clock.now().getTime();
    const inserted = await db.insertInto('payouts').values({
      transaction_id: request.transactionId, provider: PROVIDER, customer_id: request.customer, amount: request.amount, currency: request.currency,
      request_hash: requestHash, status: 'pending', http_status: null, response: null, created_at: now, updated_at: now,
    }).onConflict((oc) => oc.column('transaction_id').doNothing()).executeTakeFirst();
    // Another request with this id got in first.
    if (!Number(inserted.numInsertedOrUpdatedRows ?? 0)) return (await this.#replay(request.transactionId, requestHash))!;

    let outcome: PayoutOutcome;
    try {
      const paid = await this.#client.payout(token, { amount: request.amount, currency: request.currency, transactionId: request.transactionId });
      outcome = {
        status: 200,
        body: { payout: { transactionId: request.transactionId, customer: request.customer, amount: request.amount, currency: request.currency, status: paid.status, providerPayoutId: paid.payoutId, createdAt: new Date(now).toISOString() } },
      };
    } catch (error) {
      if (error instanceof MilkipayUnavailable || !(error instanceof ApiError)) {
        await db.deleteFrom('payouts').where('transaction_id', '=', request.transactionId).where('status', '=', 'pending').execute();
        throw error;
      }
      this.logger.warn({ transactionId: request.transactionId, code: error.code, providerCode: error.extras.providerCode }, 'milkipay payout refused');
      outcome = { status: error.status, body: error.toBody() };
      // The reader's page then shows why their wallet cannot be paid.
      if (isAccountProblem(error.extras.providerCode ?? '')) await this.#recordFailure(request.customer, error);
    }
    await db.updateTable('payouts').set({
      status: outcome.status === 200 ? 'succeeded' : 'failed', http_status: outcome.status, response: JSON.stringify(outcome.body), updated_at: this.clock.now().getTime(),
    }).where('transaction_id', '=', request.transactionId).execute();
    return outcome;
  }

  async #replay(transactionId: string, requestHash: string): Promise<PayoutOutcome | null> {
    const row = await this.database.db.selectFrom('payouts').selectAll().where('transaction_id', '=', transactionId).executeTakeFirst();
    if (!row) return null;
    if (row.request_hash !== requestHash) throw new ApiError(409, 'idempotency_conflict', `transactionId ${transactionId} was already used for a different payout. Use a new transactionId for a new payout.`);
    if (row.status === 'pending' || row.response === null) throw new ApiError(409, 'payout_in_progress', `The payout ${transactionId} is being processed. Retry in a moment.`);
    return { status: Number(row.http_status) as PayoutOutcome['status'], body: JSON.parse(row.response) };
  }

  #open(sealed: string, context: string): Flow | null {
    if (sealed.length > 2048) return null;
    const plain = this.#box.open(sealed, context);
    if (plain === null) return null;
    let value: unknown;
    try {
      value = JSON.parse(plain);
    } catch {
      return null;
    }
    const flow = z.safeParse(Flow, value);
    return flow.success && flow.data.expires > this.clock.now().getTime() ? flow.data : null;
  }

  #recordFailure(customerId: string, error: unknown): Promise<WalletConnection> {
    if (!(error instanceof ApiError)) throw error;
    this.logger.warn({ customerId, code: error.code, providerCode: error.extras.providerCode }, 'milkipay connection failed');
    return this.#record(customerId, { code: error.code, message: error.message, ...(error.extras.providerCode ? { providerCode: error.extras.providerCode } : {}) });
  }

  async #record(customerId: string, error: { code: string; message: string; providerCode?: string } | null): Promise<WalletConnection> {
    const values = {
      status: error ? ('error' as const) : ('connected' as const),
      error_code: error?.code ?? null, error_message: error?.message ?? null, provider_code: error?.providerCode ?? null, checked_at: this.clock.now().getTime(),
    };
    await this.database.db.insertInto('wallet_connections').values({ customer_id: customerId, provider: PROVIDER, ...values })
      .onConflict((oc) => oc.columns(['customer_id', 'provider']).doUpdateSet(values)).execute();
    return toConnection({ provider: PROVIDER, ...values });
  }
}

function toConnection(row: { provider: string; status: 'connected' | 'error'; error_code: string | null; error_message: string | null; provider_code: string | null; checked_at: number }): WalletConnection {
  return {
    provider: PROVIDER,
    status: row.status,
    ...(row.status === 'error' ? { error: { code: row.error_code ?? 'milkipay_error', message: row.error_message ?? '', ...(row.provider_code ? { providerCode: row.provider_code } : {}) } } : {}),
    checkedAt: new Date(Number(row.checked_at)).toISOString(),
  };
}
