import type { PurchaseRequest, PurchaseResponse } from '../../src/protocol';
import type { Clock } from '../clock';
import type { ServerConfig } from '../config';
import { ApiError } from '../errors';
import type { DatabaseHandle } from '../store/connect';
import { PreparedQuery } from '../store/prepared-query';
import type { PurchasesTable } from '../store/schema';
import { writeTransaction } from './write-transaction';
import type { NotificationStore, PendingNotification } from '../notifications/notification-store';
import type { EntitlementStore } from './entitlements';
import { InsufficientFundsError, type Ledger } from './ledger';
import { verifyOffer } from './offers';
import { newId } from './tokens';
import type { HostedUrls } from './hosted-urls';
import { checkDisplayPrice } from './display-price';
import { replayed, requestHash } from './idempotency';

interface Priced {
  product: string;
  title: string;
  price: number;
  currency: string;
  validity: number;
}

export class PurchaseService {
  readonly #recorded: PreparedQuery<{ customerId: string; idempotencyKey: string }, Pick<PurchasesTable, 'request_hash' | 'product' | 'expires_at'>>;
  readonly #record: PreparedQuery<PurchasesTable, unknown>;

  constructor(
    private readonly database: DatabaseHandle,
    private readonly config: ServerConfig,
    private readonly clock: Clock,
    private readonly ledger: Ledger,
    private readonly entitlements: EntitlementStore,
    private readonly notifications: NotificationStore,
    private readonly urls: HostedUrls,
  ) {
    this.#recorded = new PreparedQuery(database.db, (db, param) => db
      .selectFrom('purchases')
      .select(['request_hash', 'product', 'expires_at'])
      .where('customer_id', '=', param('customerId'))
      .where('idempotency_key', '=', param('idempotencyKey')));
    this.#record = new PreparedQuery(database.db, (db, param) => db.insertInto('purchases').values({
      id: param('id'), customer_id: param('customer_id'), idempotency_key: param('idempotency_key'), request_hash: param('request_hash'),
      product: param('product'), title: param('title'), price: param('price'), currency: param('currency'), charged: param('charged'),
      transaction_id: param('transaction_id'), expires_at: param('expires_at'), created_at: param('created_at'),
    }));
  }

  /** What is being bought and at which price, decided by the catalog or a signed offer, never by the client. */
  resolve(request: PurchaseRequest): Priced {
    if ('offer' in request) {
      const offer = verifyOffer(this.config.offerSecret, request.offer, this.clock.now());
      return { product: offer.product, title: offer.title, price: offer.price, currency: offer.currency, validity: offer.validity };
    }
    const product = this.config.products.get(request.product);
    if (!product) throw new ApiError(404, 'unknown_product', `There is no product "${request.product}" in the catalog.`);
    return { product: product.id, title: product.title, price: product.price, currency: product.currency, validity: product.validity };
  }

  async purchase(customerId: string | null, request: PurchaseRequest, origin: string | undefined): Promise<PurchaseResponse> {
    const item = this.resolve(request);
    if (!customerId) {
      throw new ApiError(401, 'sign_in_required', 'Sign in to buy this.', { signInUrl: this.urls.page('sign-in', origin) });
    }
    checkDisplayPrice(request, item);
    const hash = requestHash(['product' in request ? request.product : request.offer, request.price ?? null, request.currency ?? null]);
    const now = this.clock.now();
    const result = await writeTransaction(this.database, async (trx) => {
      // Locking the wallet first serialises this customer's purchases, so the checks below cannot race.
      const wallet = await this.ledger.lockWallet(trx, customerId, this.config.startCredit.currency);
      const previous = replayed(await this.#recorded.first(trx, { customerId, idempotencyKey: request.idempotencyKey }), hash, 'purchase');
      if (previous) {
        return { response: this.#response(previous.product, Number(previous.expires_at), wallet), written: [] };
      }
      if (item.currency !== wallet.currency) {
        throw new ApiError(409, 'currency_mismatch', `This wallet holds ${wallet.currency}; the item is priced in ${item.currency}.`);
      }
      const held = await this.entitlements.current(trx, customerId, item.product);
      let expiresAt = held ?? now.getTime() + item.validity * 1000;
      let charged = 0;
      let transactionId: number | null = null;
      let after = wallet;
      const pending: PendingNotification[] = [];
      if (held === null) {
        if (item.price > 0) {
          if (wallet.balance < item.price) throw this.#insufficient(wallet.balance, item.price, wallet.currency, origin);
          try {
            ({ transactionId, wallet: after } = await this.ledger.post(trx, { kind: 'purchase', customerId, currency: item.currency, amount: item.price, from: 'wallet', to: 'revenue', reference: item.product, at: now }));
          } catch (error) {
            if (error instanceof InsufficientFundsError) throw this.#insufficient(error.balance, item.price, wallet.currency, origin);
            throw error;
          }
          charged = item.price;
          pending.push({ customerId, type: 'wallet.balance.changed', resource: { ...after, delta: -item.price, reason: 'purchase' } });
        }
        await this.entitlements.grant(trx, customerId, item.product, now.getTime(), expiresAt);
        pending.push({ customerId, type: 'access.granted', resource: { product: item.product, expiresAt: new Date(expiresAt).toISOString() } });
      }
      await this.#record.rows(trx, {
        id: newId('pur'), customer_id: customerId, idempotency_key: request.idempotencyKey, request_hash: hash,
        product: item.product, title: item.title, price: item.price, currency: item.currency, charged,
        transaction_id: transactionId, expires_at: expiresAt, created_at: now.getTime(),
      });
      return { response: this.#response(item.product, expiresAt, after), written: await this.notifications.append(trx, pending, now) };
    });
    this.notifications.publish(result.written);
    return result.response;
  }

  #response(product: string, expiresAt: number, wallet: { balance: number; currency: string }): PurchaseResponse {
    return { status: 'granted', entitlement: { product, expiresAt: new Date(expiresAt).toISOString() }, wallet };
  }

  #insufficient(balance: number, price: number, currency: string, origin: string | undefined): ApiError {
    const missing = price - balance;
    return new ApiError(402, 'insufficient_funds', 'Your wallet balance is too low for this purchase. Top up to continue.', {
      missing,
      topUpUrl: this.urls.page('top-up', origin, { amount: String(missing), currency }),
    });
  }
}
