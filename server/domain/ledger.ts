import { sql, type Kysely } from 'kysely';
import type { Wallet } from '../../src/protocol';
import type { Dialect } from '../store/connect';
import type { Database, LedgerTransactionsTable } from '../store/schema';

type Trx = Kysely<Database>;

/** System accounts on the other side of wallet movements; they may go negative. */
export type SystemAccount = 'start_credit' | 'card_clearing' | 'provider_clearing' | 'revenue';

const systemAccountId = (purpose: SystemAccount, currency: string) => `system:${purpose}:${currency}`;
const walletId = (customerId: string, currency: string) => `wallet:${customerId}:${currency}`;

export interface Posting {
  kind: LedgerTransactionsTable['kind'];
  customerId: string;
  reference?: string;
  currency: string;
  amount: number;
  /** Money flows from `from` to `to`; a wallet is named as 'wallet'. */
  from: SystemAccount | 'wallet';
  to: SystemAccount | 'wallet';
  at: Date;
}

export class InsufficientFundsError extends Error {
  constructor(readonly balance: number, readonly required: number) {
    super('insufficient funds');
  }
}

/**
 * Double-entry wallet ledger. Every posting writes two entries that sum to zero and moves the
 * cached balances in the same transaction; a wallet debit is a conditional update, so concurrent
 * purchases cannot overdraw even without a lock, and the CHECK constraint backs that up.
 */
export class Ledger {
  constructor(private readonly dialect: Dialect) {}

  async openWallet(trx: Trx, customerId: string, currency: string): Promise<void> {
    await trx.insertInto('ledger_accounts').values({ id: walletId(customerId, currency), customer_id: customerId, kind: 'wallet', currency, balance: 0 }).execute();
  }

  /** Reads the wallet and, on PostgreSQL, locks it until the transaction ends, serialising a customer's purchases. */
  async lockWallet(trx: Trx, customerId: string, currency: string): Promise<Wallet> {
    const row = await trx
      .selectFrom('ledger_accounts')
      .select(['balance', 'currency'])
      .where('id', '=', walletId(customerId, currency))
      .$if(this.dialect === 'postgres', (q) => q.forUpdate())
      .executeTakeFirstOrThrow();
    return { balance: Number(row.balance), currency: row.currency };
  }

  async wallet(db: Trx, customerId: string): Promise<Wallet | undefined> {
    const row = await db.selectFrom('ledger_accounts').select(['balance', 'currency']).where('customer_id', '=', customerId).where('kind', '=', 'wallet').executeTakeFirst();
    return row && { balance: Number(row.balance), currency: row.currency };
  }

  async post(trx: Trx, posting: Posting): Promise<{ transactionId: number; wallet: Wallet }> {
    const { kind, customerId, currency, amount, at } = posting;
    if (!Number.isSafeInteger(amount) || amount <= 0) throw new RangeError(`Ledger amounts are positive integers, got ${amount}`);
    const accountOf = (side: SystemAccount | 'wallet') => (side === 'wallet' ? walletId(customerId, currency) : systemAccountId(side, currency));
    const from = accountOf(posting.from);
    const to = accountOf(posting.to);
    const legs = [{ side: posting.from, id: from, delta: -amount }, { side: posting.to, id: to, delta: amount }];
    // The wallet moves first: its debit is the overdraft check, and its update returns the balance.
    let wallet: Wallet | undefined;
    for (const leg of legs.filter((l) => l.side === 'wallet')) {
      const moved = await this.#move(trx, leg.side, currency, leg.id, leg.delta);
      if (!moved) {
        const current = await this.lockWallet(trx, customerId, currency);
        throw new InsufficientFundsError(current.balance, amount);
      }
      wallet = { balance: Number(moved.balance), currency: moved.currency };
    }
    const { id } = await trx
      .insertInto('ledger_transactions')
      .values({ kind, customer_id: customerId, reference: posting.reference ?? null, created_at: at.getTime() })
      .returning('id')
      .executeTakeFirstOrThrow();
    const transactionId = Number(id);
    // System accounts are shared by every customer's postings and, on PostgreSQL, an updated row
    // stays locked until commit: they move as late as their entries (which reference them) allow.
    for (const leg of legs.filter((l) => l.side !== 'wallet')) await this.#move(trx, leg.side, currency, leg.id, leg.delta);
    await trx.insertInto('ledger_entries').values(legs.map((leg) => ({ transaction_id: transactionId, account_id: leg.id, amount: leg.delta }))).execute();
    return { transactionId, wallet: wallet ?? (await this.lockWallet(trx, customerId, currency)) };
  }

  /**
   * Adds `delta` to an account's cached balance and returns the new balance, or undefined when a
   * wallet debit would overdraw (the conditional update matches no row). A system account is
   * created on its first movement.
   */
  async #move(trx: Trx, side: SystemAccount | 'wallet', currency: string, id: string, delta: number): Promise<{ balance: number; currency: string } | undefined> {
    const update = () => trx
      .updateTable('ledger_accounts')
      .set({ balance: sql`balance + ${delta}` })
      .where('id', '=', id)
      .$if(side === 'wallet' && delta < 0, (q) => q.where('balance', '>=', -delta))
      .returning(['balance', 'currency'])
      .executeTakeFirst();
    const moved = await update();
    if (moved || side === 'wallet') return moved;
    await this.#ensureSystemAccount(trx, side, currency);
    return update();
  }

  async #ensureSystemAccount(trx: Trx, purpose: SystemAccount, currency: string): Promise<void> {
    await trx
      .insertInto('ledger_accounts')
      .values({ id: systemAccountId(purpose, currency), customer_id: null, kind: 'system', currency, balance: 0 })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  /**
   * Audit: every transaction's entries sum to zero, and every cached balance equals the sum of
   * its entries. Returns the problems found (empty when the books balance).
   */
  async audit(db: Trx): Promise<string[]> {
    const problems: string[] = [];
    const unbalanced = await db.selectFrom('ledger_entries').select(['transaction_id', sql<number>`sum(amount)`.as('total')]).groupBy('transaction_id').having(sql`sum(amount)`, '<>', 0).execute();
    for (const row of unbalanced) problems.push(`transaction ${row.transaction_id} sums to ${row.total}`);
    const drift = await db
      .selectFrom('ledger_accounts as a')
      .leftJoin('ledger_entries as e', 'e.account_id', 'a.id')
      .select(['a.id', 'a.balance', sql<number>`coalesce(sum(e.amount), 0)`.as('total')])
      .groupBy(['a.id', 'a.balance'])
      .execute();
    for (const row of drift) if (Number(row.balance) !== Number(row.total)) problems.push(`account ${row.id} caches ${row.balance} but its entries sum to ${row.total}`);
    return problems;
  }
}
