import type { CardInput } from '../../src/protocol';
import type { CardField } from './templates';

/** Which message of the dictionary says what is wrong with a card field. */
export type CardProblem = 'cardNumberInvalid' | 'expMonthInvalid' | 'expYearInvalid' | 'cvcInvalid';

/** The card fields of a hosted form (top-up, checkout), checked alike: spaces in the number and two-digit years allowed. */
export function readCard(form: Record<string, string>, expMonth: string, expYear: string): CardInput | { invalid: CardField; message: CardProblem } {
  const number = (form.cardNumber ?? '').replace(/\s+/g, '');
  if (!/^[0-9]{12,19}$/.test(number)) return { invalid: 'cardNumber', message: 'cardNumberInvalid' };
  if (!/^[0-9]{1,2}$/.test(expMonth) || Number(expMonth) < 1 || Number(expMonth) > 12) return { invalid: 'expMonth', message: 'expMonthInvalid' };
  if (!/^([0-9]{2}|[0-9]{4})$/.test(expYear)) return { invalid: 'expYear', message: 'expYearInvalid' };
  const year = expYear.length === 2 ? 2000 + Number(expYear) : Number(expYear);
  if (year < 2000 || year > 2100) return { invalid: 'expYear', message: 'expYearInvalid' };
  const cvc = (form.cvc ?? '').trim();
  if (!/^[0-9]{3,4}$/.test(cvc)) return { invalid: 'cvc', message: 'cvcInvalid' };
  return { number, expMonth: Number(expMonth), expYear: year, cvc };
}
