/** The strings of the hosted Milkipay wallet-connection pages, in English and German (see i18n.ts for the rest). */
import type { Lang } from './i18n';

export interface MilkipayDictionary {
  linkInvalid: string;
  connected: string;
  declined: string;
}

const en: MilkipayDictionary = {
  linkInvalid: 'This connection link has expired or is not valid. Close this window and start again.',
  connected: 'Your Milkipay wallet is connected.',
  declined: 'The Milkipay wallet was not connected.',
};

const de: MilkipayDictionary = {
  linkInvalid: 'Dieser Verbindungslink ist abgelaufen oder ungültig. Bitte das Fenster schließen und neu beginnen.',
  connected: 'Ihr Milkipay-Wallet ist verbunden.',
  declined: 'Das Milkipay-Wallet wurde nicht verbunden.',
};

export const milkipayDictionaries: Record<Lang, MilkipayDictionary> = { en, de };
