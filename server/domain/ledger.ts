import { sql, type Kysely } from 'kysely';
import type { Wallet } from '../../src/protocol';
import type { Dialect } from '../store/connect';
import { PreparedQuery, type Param } from '../store/prepared-query';
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
  // The statements every posting runs, built once.
  readonly #readWallet: PreparedQuery<{ id: string }, Wallet>;
  readonly #addToBalance: PreparedQuery<{ id: string; delta: number }, Wallet>;
  readonly #debitWallet: PreparedQuery<{ id: string; delta: number; required: number }, Wallet>;
  readonly #insertTransaction: PreparedQuery<{ kind: LedgerTransactionsTable['kind']; customerId: string; reference: string | null; createdAt: number }, { id: number }>;
  readonly #insertEntries: PreparedQuery<{ transactionId: number; fromId: string; toId: string; debit: number; credit: number }, unknown>;

  constructor(db: Kysely<Database>, dialect: Dialect) {
    this.#readWallet = new PreparedQuery(db, (db, param) => db
      .selectFrom('ledger_accounts')
      .select(['balance', 'currency'])
      .where('id', '=', param('id'))
      .$if(dialect === 'postgres', (q) => q.forUpdate()));
    const addToBalance = (param: Param<{ id: string; delta: number }>) => db
      .updateTable('ledger_accounts')
      .set({ balance: sql`balance + ${param('delta')}` })
      .where('id', '=', param('id'));
    this.#addToBalance = new PreparedQuery(db, (_, param) => addToBalance(param).returning(['balance', 'currency']));
    // Matches no row when the debit would overdraw.
    this.#debitWallet = new PreparedQuery(db, (_, param) => addToBalance(param).where('balance', '>=', param('required')).returning(['balance', 'currency']));
    this.#insertTransaction = new PreparedQuery(db, (db, param) => db
      .insertInto('ledger_transactions')
      .values({ kind: param('kind'), customer_id: param('customerId'), reference: param('reference'), created_at: param('createdAt') })
      .returning('id'));
    this.#insertEntries = new PreparedQuery(db, (db, param) => db
      .insertInto('ledger_entries')
      .values([
        { transaction_id: param('transactionId'), account_id: param('fromId'), amount: param('debit') },
        { transaction_id: param('transactionId'), account_id: param('toId'), amount: param('credit') },
      ]));
  }

  async openWallet(trx: Trx, customerId: string, currency: string): Promise<void> {
    await trx.insertInto('ledger_accounts').values({ id: walletId(customerId, currency), customer_id: customerId, kind: 'wallet', currency, balance: 0 }).execute();
  }

  /** Reads the wallet and, on PostgreSQL, locks it until the transaction ends, serialising a customer's purchases. */
  async lockWallet(trx: Trx, customerId: string, currency: string): Promise<Wallet> {
    const row = await this.#readWallet.first(trx, { id: walletId(customerId, currency) });
    if (!row) throw new Error(`No ${currency} wallet for customer ${customerId}`);
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
    const { id } = (await this.#insertTransaction.first(trx, { kind, customerId, reference: posting.reference ?? null, createdAt: at.getTime() }))!;
    const transactionId = Number(id);
    // System accounts are shared by every customer's postings and, on PostgreSQL, an updated row
    // stays locked until commit: they move as late as their entries (which reference them) allow.
    for (const leg of legs.filter((l) => l.side !== 'wallet')) await this.#move(trx, leg.side, currency, leg.id, leg.delta);
    await this.#insertEntries.rows(trx, { transactionId, fromId: from, toId: to, debit: -amount, credit: amount });
    return { transactionId, wallet: wallet ?? (await this.lockWallet(trx, customerId, currency)) };
  }

  /**
   * Adds `delta` to an account's cached balance and returns the new balance, or undefined when a
   * wallet debit would overdraw (the conditional update matches no row). A system account is
   * created on its first movement.
   */
  async #move(trx: Trx, side: SystemAccount | 'wallet', currency: string, id: string, delta: number): Promise<{ balance: number; currency: string } | undefined> {
    const update = () => (side === 'wallet' && delta < 0 ? this.#debitWallet.first(trx, { id, delta, required: -delta }) : this.#addToBalance.first(trx, { id, delta }));
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
