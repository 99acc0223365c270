import { fromDecimalAmount } from '../decimal-amount';

/** A sale's state as Verotel's /salestatus reports it. */
export interface SaleStatus {
  saleId: string;
  state: 'approved' | 'pending' | 'declined' | 'refunded' | 'unknown';
  amount?: number;
  currency?: string;
}

/**
 * Reads a `/salestatus` answer. Verotel documents it only as "machine-readable information about
 * the given sale … in YAML format" (the field list was never published to us), so this reads
 * top-level `key: value` lines and nothing else: `saleResult` gives the state (APPROVED,
 * DECLINED, PENDING, REFUNDED, case-insensitive), `saleID` must name the sale asked about when
 * present, `priceAmount` + `priceCurrency` give the amount when both are there. Anything else
 * (no such line, an unknown value, an HTML error page) is `unknown`, which never grants access.
 */
export function parseSaleStatus(saleId: string, text: string): SaleStatus {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^([A-Za-z][A-Za-z0-9_]*)\s*:\s*(.*?)\s*$/.exec(line);
    if (match) fields.set(match[1]!.toLowerCase(), match[2]!.replace(/^(['"])(.*)\1$/, '$2'));
  }
  const unknown: SaleStatus = { saleId, state: 'unknown' };
  const reported = fields.get('saleid');
  if (reported !== undefined && reported !== saleId) return unknown;
  const state = STATES[(fields.get('saleresult') ?? '').toUpperCase()];
  if (!state) return unknown;
  const amount = fromDecimalAmount(fields.get('priceamount') ?? '');
  const currency = fields.get('pricecurrency');
  return { saleId, state, ...(amount !== null && currency ? { amount, currency } : {}) };
}

const STATES: Record<string, SaleStatus['state']> = { APPROVED: 'approved', DECLINED: 'declined', PENDING: 'pending', REFUNDED: 'refunded' };
