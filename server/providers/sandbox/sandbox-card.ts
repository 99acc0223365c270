import type { CardInput } from '../../../src/protocol';
import type { Clock } from '../../clock';
import { ApiError } from '../../errors';

/** The built-in sandbox card processor: outcomes chosen by test card number, no outside service. */
export function chargeSandboxCard(card: CardInput, clock: Clock): { last4: string } {
  const now = clock.now();
  const expired = card.expYear < now.getUTCFullYear() || (card.expYear === now.getUTCFullYear() && card.expMonth < now.getUTCMonth() + 1);
  if (expired) throw new ApiError(402, 'card_declined', 'This card has expired. Use another card.');
  switch (card.number) {
    case '4242424242424242':
      return { last4: '4242' };
    case '4000000000009995':
      throw new ApiError(402, 'insufficient_funds', 'The card was declined for insufficient funds. Use another card.');
    case '4000000000000002':
      throw new ApiError(402, 'card_declined', 'The card was declined by its bank. Use another card.');
    default:
      throw new ApiError(402, 'card_declined', 'The card was declined. In the sandbox, use test card 4242 4242 4242 4242.');
  }
}
