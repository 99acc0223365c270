import type { PaymentMethod, PeriodUnit } from '../../../src/protocol';
import { FLEXPAY_CURRENCIES } from './flexpay-currencies';

/**
 * What Verotel cannot bill among the catalog's items: a currency FlexPay does not take, or a
 * recurring period shorter than its 7 days. The first problem, for the config's one-line refusal, or null.
 */
export function verotelCatalogProblem(
  products: Iterable<{ id: string; provider: string; currency: string }>,
  plans: Iterable<{ id: string; provider: string; methods: readonly PaymentMethod[]; currency: string; periodUnit: PeriodUnit; periodLength: number }>,
): string | null {
  const currencyProblem = (currency: string, what: string) => (FLEXPAY_CURRENCIES.has(currency) ? null : `${what}: Verotel takes ${[...FLEXPAY_CURRENCIES].join(', ')}, not ${currency}`);
  for (const product of products) {
    const problem = product.provider === 'verotel' ? currencyProblem(product.currency, `product "${product.id}"`) : null;
    if (problem) return problem;
  }
  for (const plan of plans) {
    if (plan.provider !== 'verotel' || !plan.methods.includes('card')) continue;
    const problem = currencyProblem(plan.currency, `plan "${plan.id}"`);
    if (problem) return problem;
    if (plan.periodUnit === 'day' && plan.periodLength < 7) return `plan "${plan.id}": Verotel bills recurring subscriptions every 7 days at the least`;
  }
  return null;
}
