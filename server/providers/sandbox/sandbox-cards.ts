import type { CardInput } from '../../../src/protocol';
import type { CardTokensTable } from '../../store/schema';
import { chargeSandboxCard } from './sandbox-card';

export type CardBehaviour = CardTokensTable['behaviour'];

/**
 * The sandbox test cards for card payments and subscriptions, by how they behave once accepted.
 * The top-up cards (4242… succeeds, …0002 declined, …9995 insufficient funds, anything else
 * declined) keep their meaning at checkout too.
 */
export const SANDBOX_CARDS: Readonly<Record<string, CardBehaviour>> = {
  /** Never asks for 3-D Secure. */
  '4242424242424242': 'plain',
  /** Asks for 3-D Secure on every payment, on-session or off (renewals). */
  '4000002760003184': 'sca_always',
  /** Asks for 3-D Secure on the first payment only; later payments (renewals) go through. */
  '4000002500003155': 'sca_first',
  /** Accepted when entered (the sign-up payment); every off-session charge (renewal) is declined. */
  '4000000000000341': 'decline_off_session',
};

export interface AcceptedCard {
  behaviour: CardBehaviour;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
}

/**
 * Checks a card entered on the hosted checkout page, the way the sandbox processor would when
 * tokenizing it: expired and decline cards throw the same `card_declined` / `insufficient_funds`
 * errors top-ups answer with. Only brand, last four digits, expiry and behaviour are kept.
 */
export function acceptSandboxCard(card: CardInput, now: Date): AcceptedCard {
  const behaviour = SANDBOX_CARDS[card.number];
  // The top-up processor decides expiry and the decline cards, so both flows say the same.
  if (!behaviour || isExpired(card.expMonth, card.expYear, now)) chargeSandboxCard(card, { now: () => now });
  return { behaviour: behaviour ?? 'plain', brand: brandOf(card.number), last4: card.number.slice(-4), expMonth: card.expMonth, expYear: card.expYear };
}

export type ChargeOutcome =
  | { result: 'succeeded' }
  | { result: 'requires_action' }
  | { result: 'declined'; code: 'card_declined' | 'insufficient_funds'; message: string };

/**
 * What the sandbox processor answers to a charge of a stored card. `offSession` is a charge the
 * reader is not present for (renewals, the first charge after a trial); `authenticated` is a
 * charge the reader has just approved on the hosted 3-D Secure page.
 */
export function sandboxCharge(
  token: Pick<CardTokensTable, 'behaviour' | 'paid_count' | 'exp_month' | 'exp_year'>,
  { offSession, authenticated = false, now }: { offSession: boolean; authenticated?: boolean; now: Date },
): ChargeOutcome {
  if (isExpired(Number(token.exp_month), Number(token.exp_year), now)) return { result: 'declined', code: 'card_declined', message: 'The card on file has expired. Subscribe again with a current card.' };
  if (authenticated) return { result: 'succeeded' };
  switch (token.behaviour) {
    case 'sca_always':
      return { result: 'requires_action' };
    case 'sca_first':
      return Number(token.paid_count) === 0 ? { result: 'requires_action' } : { result: 'succeeded' };
    case 'decline_off_session':
      return offSession ? { result: 'declined', code: 'card_declined', message: 'The card was declined by its bank.' } : { result: 'succeeded' };
    case 'plain':
      return { result: 'succeeded' };
  }
}

function isExpired(month: number, year: number, now: Date): boolean {
  return year < now.getUTCFullYear() || (year === now.getUTCFullYear() && month < now.getUTCMonth() + 1);
}

function brandOf(number: string): string {
  if (number.startsWith('4')) return 'visa';
  if (/^(5[1-5]|2[2-7])/.test(number)) return 'mastercard';
  if (/^3[47]/.test(number)) return 'amex';
  return 'card';
}
