import { sql, type Kysely } from 'kysely';
import type { Wallet } from '../../src/protocol';
import type { Dialect } from '../store/schema';
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
 * wallet's cached balance in the same transaction; a wallet debit is a conditional update, so
 * concurrent purchases cannot overdraw even without a lock, and the CHECK constraint backs that up.
 * A system account caches no balance (its row stays at 0; its balance is the sum of its entries):
 * every customer's postings touch it, and an updated row would make them all queue on its lock
 * until each commit is on disk.
 */
export class Ledger {
  // The statements every posting runs, built once.
  readonly #readWallet: PreparedQuery<{ id: string }, Wallet>;
  readonly #creditWallet: PreparedQuery<{ id: string; delta: number }, Wallet>;
  readonly #debitWallet: PreparedQuery<{ id: string; delta: number; required: number }, Wallet>;
  readonly #insertTransaction: PreparedQuery<{ kind: LedgerTransactionsTable['kind']; customerId: string; reference: string | null; createdAt: number }, { id: number }>;
  readonly #insertEntries: PreparedQuery<{ transactionId: number; fromId: string; toId: string; debit: number; credit: number }, unknown>;
  readonly #ensureSystemAccount: PreparedQuery<{ id: string; currency: string }, unknown>;

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
    this.#creditWallet = new PreparedQuery(db, (_, param) => addToBalance(param).returning(['balance', 'currency']));
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
    // An existing row is neither changed nor locked (DO NOTHING), so concurrent postings do not wait on it.
    this.#ensureSystemAccount = new PreparedQuery(db, (db, param) => db
      .insertInto('ledger_accounts')
      .values({ id: param('id'), customer_id: null, kind: 'system', currency: param('currency'), balance: 0 })
      .onConflict((oc) => oc.column('id').doNothing()));
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
    // The wallet moves first: its debit is the overdraft check, and its update returns the balance.
    let wallet: Wallet | undefined;
    if (posting.from === 'wallet') {
      wallet = await this.#debitWallet.first(trx, { id: from, delta: -amount, required: amount });
      if (!wallet) throw new InsufficientFundsError((await this.lockWallet(trx, customerId, currency)).balance, amount);
    } else if (posting.to === 'wallet') {
      wallet = await this.#creditWallet.first(trx, { id: to, delta: amount });
      if (!wallet) throw new Error(`No ${currency} wallet for customer ${customerId}`);
    }
    for (const side of [posting.from, posting.to]) {
      if (side !== 'wallet') await this.#ensureSystemAccount.rows(trx, { id: accountOf(side), currency });
    }
    const { id } = (await this.#insertTransaction.first(trx, { kind, customerId, reference: posting.reference ?? null, createdAt: at.getTime() }))!;
    const transactionId = Number(id);
    await this.#insertEntries.rows(trx, { transactionId, fromId: from, toId: to, debit: -amount, credit: amount });
    return { transactionId, wallet: wallet ? { balance: Number(wallet.balance), currency: wallet.currency } : await this.lockWallet(trx, customerId, currency) };
  }

  /**
   * Audit: every transaction's entries sum to zero, and every wallet's cached balance equals the
   * sum of its entries. Returns the problems found (empty when the books balance).
   */
  async audit(db: Trx): Promise<string[]> {
    const problems: string[] = [];
    const unbalanced = await db.selectFrom('ledger_entries').select(['transaction_id', sql<number>`sum(amount)`.as('total')]).groupBy('transaction_id').having(sql`sum(amount)`, '<>', 0).execute();
    for (const row of unbalanced) problems.push(`transaction ${row.transaction_id} sums to ${row.total}`);
    const drift = await db
      .selectFrom('ledger_accounts as a')
      .leftJoin('ledger_entries as e', 'e.account_id', 'a.id')
      .select(['a.id', 'a.balance', sql<number>`coalesce(sum(e.amount), 0)`.as('total')])
      .where('a.kind', '=', 'wallet')
      .groupBy(['a.id', 'a.balance'])
      .execute();
    for (const row of drift) if (Number(row.balance) !== Number(row.total)) problems.push(`account ${row.id} caches ${row.balance} but its entries sum to ${row.total}`);
    return problems;
  }
}
