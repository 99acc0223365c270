import type { TopUpRequest, Wallet } from '../../src/protocol';
import type { Clock } from '../clock';
import { ApiError } from '../errors';
import type { DatabaseHandle } from '../store/connect';
import { writeTransaction } from './write-transaction';
import type { NotificationStore } from '../notifications/notification-store';
import type { Ledger } from './ledger';
import { chargeSandboxCard } from '../providers/sandbox/sandbox-card';
import { newId, sha256 } from './tokens';
import { replayed, requestHash } from './idempotency';

export class TopUpService {
  constructor(
    private readonly database: DatabaseHandle,
    private readonly clock: Clock,
    private readonly ledger: Ledger,
    private readonly notifications: NotificationStore,
  ) {}

  /** Charges the card once per idempotency key and credits the wallet in the same transaction as the record. */
  async topUp(customerId: string, request: TopUpRequest): Promise<Wallet> {
    const hash = requestHash([request.amount, request.currency, sha256(request.card.number)]);
    const now = this.clock.now();
    const result = await writeTransaction(this.database, async (trx) => {
      const wallet = await this.ledger.wallet(trx, customerId);
      if (!wallet) throw new ApiError(401, 'unauthenticated', 'Sign in again.');
      await this.ledger.lockWallet(trx, customerId, wallet.currency);
      const previous = replayed(await trx.selectFrom('top_ups').select('request_hash').where('customer_id', '=', customerId).where('idempotency_key', '=', request.idempotencyKey).executeTakeFirst(), hash, 'top-up');
      if (previous) {
        return { wallet, written: [] };
      }
      if (request.currency !== wallet.currency) throw new ApiError(400, 'currency_mismatch', `This wallet holds ${wallet.currency}; top up in ${wallet.currency}.`);
      const { last4 } = chargeSandboxCard(request.card, this.clock);
      const { transactionId, wallet: after } = await this.ledger.post(trx, { kind: 'top_up', customerId, currency: wallet.currency, amount: request.amount, from: 'card_clearing', to: 'wallet', reference: `card ${last4}`, at: now });
      await trx.insertInto('top_ups').values({
        id: newId('top'), customer_id: customerId, idempotency_key: request.idempotencyKey, request_hash: hash,
        amount: request.amount, currency: request.currency, card_last4: last4, transaction_id: transactionId, created_at: now.getTime(),
      }).execute();
      const written = await this.notifications.append(trx, [{ customerId, type: 'wallet.balance.changed', resource: { ...after, delta: request.amount, reason: 'top_up' } }], now);
      return { wallet: after, written };
    });
    this.notifications.publish(result.written);
    return result.wallet;
  }
}
