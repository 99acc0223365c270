/** The hosted pages' languages and their strings in English and German (the checkout pages' are in payment-i18n.ts, the Milkipay pages' in milkipay-i18n.ts). */
import type { HonoRequest } from 'hono';

export const LANGS = ['en', 'de'] as const;
export type Lang = (typeof LANGS)[number];

function isLang(value: string | undefined | null): value is Lang {
  return value === 'en' || value === 'de';
}

/** The best of en/de for an Accept-Language header, by q-value; en when neither is named. */
function langFromAcceptLanguage(header: string | undefined | null): Lang {
  if (!header) return 'en';
  let best: { lang: Lang; q: number } | null = null;
  for (const part of header.split(',').slice(0, 32)) {
    const [range = '', ...params] = part.trim().split(';');
    const primary = range.trim().toLowerCase().split('-')[0];
    if (!isLang(primary)) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q) || q <= 0) continue;
    if (!best || q > best.q) best = { lang: primary, q };
  }
  return best?.lang ?? 'en';
}

/**
 * The language a hosted page is shown in: the one asked for (the `lang` parameter, or what a
 * flow stored when it started) if it is ours, else the best for the Accept-Language header.
 */
export function pageLang(req: HonoRequest, asked: string | undefined = req.query('lang')): Lang {
  return isLang(asked) ? asked : langFromAcceptLanguage(req.header('accept-language'));
}

/** Locale for Intl formatting. */
export const LOCALES: Record<Lang, string> = { en: 'en-GB', de: 'de-DE' };

export interface Dictionary {
  languageName: string;
  languageNav: string;
  cancel: string;
  cancelled: string;
  required: string;

  errorTitle: string;
  originNotAllowed: (origin: string) => string;
  originInvalid: string;
  returnNotAllowed: string;
  crossOriginPost: string;
  notFound: string;
  internalError: string;
  payloadTooLarge: string;
  closeWindow: string;

  email: string;
  password: string;
  passwordHint: string;
  enterEmail: string;
  enterPassword: string;

  signUpTitle: string;
  startCredit: (amount: string) => string;
  consent: string;
  consentRequired: string;
  signUpSubmit: string;
  haveAccount: string;
  signInLink: string;

  signInTitle: string;
  signInToTopUp: string;
  signInSubmit: string;
  noAccount: string;
  signUpLink: string;

  topUpTitle: string;
  signedInAs: (email: string) => string;
  useAnotherAccount: string;
  missingAmount: (amount: string) => string;
  amountLegend: string;
  cardNumber: string;
  cardNumberHint: string;
  expiryLegend: string;
  expMonth: string;
  expYear: string;
  cvc: string;
  testCards: string;
  topUpSubmit: string;
  chooseAmount: string;
  cardNumberInvalid: string;
  expMonthInvalid: string;
  expYearInvalid: string;
  cvcInvalid: string;
  formExpired: string;

  doneTitle: string;
  done: string;
  signedUpDone: string;
  signedInDone: string;
  toppedUpDone: (balance: string) => string;
  returnLink: string;

  /** Messages by the backend's error code. */
  errors: Record<'email_taken' | 'weak_password' | 'invalid_email' | 'invalid_credentials' | 'account_locked' | 'card_declined' | 'insufficient_funds' | 'currency_mismatch' | 'idempotency_conflict' | 'unauthenticated' | 'generic', string>;
  /** Translations of the services' more specific English messages (English shows them as they are). */
  serviceMessages: Record<string, string>;
}

const TEST_CARDS_EN =
  'This is a sandbox: no real money is charged. Test cards: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined, 4000 0000 0000 9995 fails with insufficient funds; any other number is declined. Use any future expiry date and any 3 digits as security code.';

const en: Dictionary = {
  languageName: 'English',
  languageNav: 'Language',
  cancel: 'Cancel',
  cancelled: 'Cancelled — you can close this window.',
  required: 'required',

  errorTitle: 'This page cannot be used',
  originNotAllowed: (origin) => `This window was opened for ${origin}, which is not allowed to use this service. Nothing was sent to it. Close this window and contact the website.`,
  originInvalid: 'This window was opened with an invalid website address. Nothing was sent anywhere. Close this window and contact the website.',
  returnNotAllowed: 'The return address of this link is not allowed. Nothing was sent to it. Close this window and contact the website.',
  crossOriginPost: 'This form was sent from another website, so it was refused. Open the page again and send the form from there.',
  notFound: 'There is no such page.',
  internalError: 'Something went wrong on our side. Try again in a moment.',
  payloadTooLarge: 'The form was too large to be accepted.',
  closeWindow: 'You can close this window.',

  email: 'Email address',
  password: 'Password',
  passwordHint: 'At least 8 characters.',
  enterEmail: 'Enter your email address.',
  enterPassword: 'Enter your password.',

  signUpTitle: 'Create an account',
  startCredit: (amount) => `New accounts start with ${amount} credit.`,
  consent: 'I agree to the terms of use and the privacy policy.',
  consentRequired: 'To create an account, agree to the terms of use and the privacy policy.',
  signUpSubmit: 'Create account',
  haveAccount: 'Already have an account?',
  signInLink: 'Sign in',

  signInTitle: 'Sign in',
  signInToTopUp: 'Sign in to top up your wallet.',
  signInSubmit: 'Sign in',
  noAccount: 'No account yet?',
  signUpLink: 'Create an account',

  topUpTitle: 'Top up your wallet',
  signedInAs: (email) => `Signed in as ${email}.`,
  useAnotherAccount: 'Use another account',
  missingAmount: (amount) => `You need ${amount} more for this purchase.`,
  amountLegend: 'Amount',
  cardNumber: 'Card number',
  cardNumberHint: 'Spaces are fine.',
  expiryLegend: 'Expiry date',
  expMonth: 'Month (MM)',
  expYear: 'Year (YYYY)',
  cvc: 'Security code (CVC)',
  testCards: TEST_CARDS_EN,
  topUpSubmit: 'Pay and top up',
  chooseAmount: 'Choose an amount.',
  cardNumberInvalid: 'Enter the card number: 12 to 19 digits.',
  expMonthInvalid: 'Enter the expiry month as a number from 1 to 12.',
  expYearInvalid: 'Enter the expiry year, like 2030.',
  cvcInvalid: 'Enter the 3 or 4 digit security code from the back of the card.',
  formExpired: 'This form has expired. Check the details and send it again.',

  doneTitle: 'Done',
  done: 'Done — you can close this window.',
  signedUpDone: 'Your account is ready.',
  signedInDone: 'You are signed in.',
  toppedUpDone: (balance) => `Your wallet now holds ${balance}.`,
  returnLink: 'Back to the website',

  errors: {
    email_taken: 'An account with this email already exists. Sign in instead.',
    weak_password: 'Choose a stronger password.',
    invalid_email: 'Enter a valid email address, like reader@example.com.',
    invalid_credentials: 'The email or password is not correct.',
    account_locked: 'Too many failed sign-ins. Try again in 15 minutes.',
    card_declined: 'The card was declined. Use another card.',
    insufficient_funds: 'The card was declined for insufficient funds. Use another card.',
    currency_mismatch: 'Your wallet holds a different currency than this top-up.',
    idempotency_conflict: 'This form was already used for a different top-up. Check the details and send it again.',
    unauthenticated: 'Your session has ended. Sign in again.',
    generic: 'Something went wrong. Try again.',
  },
  serviceMessages: {},
};

const de: Dictionary = {
  languageName: 'Deutsch',
  languageNav: 'Sprache',
  cancel: 'Abbrechen',
  cancelled: 'Abgebrochen – Sie können dieses Fenster schließen.',
  required: 'Pflichtfeld',

  errorTitle: 'Diese Seite kann nicht verwendet werden',
  originNotAllowed: (origin) => `Dieses Fenster wurde für ${origin} geöffnet; diese Website darf den Dienst nicht nutzen. Es wurde nichts an sie gesendet. Schließen Sie dieses Fenster und wenden Sie sich an die Website.`,
  originInvalid: 'Dieses Fenster wurde mit einer ungültigen Website-Adresse geöffnet. Es wurde nichts gesendet. Schließen Sie dieses Fenster und wenden Sie sich an die Website.',
  returnNotAllowed: 'Die Rücksprungadresse dieses Links ist nicht erlaubt. Es wurde nichts an sie gesendet. Schließen Sie dieses Fenster und wenden Sie sich an die Website.',
  crossOriginPost: 'Dieses Formular wurde von einer anderen Website gesendet und deshalb abgelehnt. Öffnen Sie die Seite erneut und senden Sie das Formular dort ab.',
  notFound: 'Diese Seite gibt es nicht.',
  internalError: 'Bei uns ist etwas schiefgelaufen. Versuchen Sie es gleich noch einmal.',
  payloadTooLarge: 'Das Formular war zu groß, um angenommen zu werden.',
  closeWindow: 'Sie können dieses Fenster schließen.',

  email: 'E-Mail-Adresse',
  password: 'Passwort',
  passwordHint: 'Mindestens 8 Zeichen.',
  enterEmail: 'Geben Sie Ihre E-Mail-Adresse ein.',
  enterPassword: 'Geben Sie Ihr Passwort ein.',

  signUpTitle: 'Konto erstellen',
  startCredit: (amount) => `Neue Konten starten mit ${amount} Guthaben.`,
  consent: 'Ich stimme den Nutzungsbedingungen und der Datenschutzerklärung zu.',
  consentRequired: 'Um ein Konto zu erstellen, stimmen Sie den Nutzungsbedingungen und der Datenschutzerklärung zu.',
  signUpSubmit: 'Konto erstellen',
  haveAccount: 'Sie haben schon ein Konto?',
  signInLink: 'Anmelden',

  signInTitle: 'Anmelden',
  signInToTopUp: 'Melden Sie sich an, um Ihr Guthaben aufzuladen.',
  signInSubmit: 'Anmelden',
  noAccount: 'Noch kein Konto?',
  signUpLink: 'Konto erstellen',

  topUpTitle: 'Guthaben aufladen',
  signedInAs: (email) => `Angemeldet als ${email}.`,
  useAnotherAccount: 'Anderes Konto verwenden',
  missingAmount: (amount) => `Für diesen Kauf fehlen Ihnen ${amount}.`,
  amountLegend: 'Betrag',
  cardNumber: 'Kartennummer',
  cardNumberHint: 'Leerzeichen sind erlaubt.',
  expiryLegend: 'Ablaufdatum',
  expMonth: 'Monat (MM)',
  expYear: 'Jahr (JJJJ)',
  cvc: 'Prüfnummer (CVC)',
  testCards:
    'Dies ist eine Sandbox: Es wird kein echtes Geld abgebucht. Testkarten: 4242 4242 4242 4242 wird angenommen, 4000 0000 0000 0002 wird abgelehnt, 4000 0000 0000 9995 scheitert an fehlender Deckung; jede andere Nummer wird abgelehnt. Verwenden Sie ein beliebiges künftiges Ablaufdatum und drei beliebige Ziffern als Prüfnummer.',
  topUpSubmit: 'Bezahlen und aufladen',
  chooseAmount: 'Wählen Sie einen Betrag.',
  cardNumberInvalid: 'Geben Sie die Kartennummer ein: 12 bis 19 Ziffern.',
  expMonthInvalid: 'Geben Sie den Ablaufmonat als Zahl von 1 bis 12 ein.',
  expYearInvalid: 'Geben Sie das Ablaufjahr ein, zum Beispiel 2030.',
  cvcInvalid: 'Geben Sie die 3- oder 4-stellige Prüfnummer von der Kartenrückseite ein.',
  formExpired: 'Dieses Formular ist abgelaufen. Prüfen Sie die Angaben und senden Sie es erneut.',

  doneTitle: 'Fertig',
  done: 'Fertig – Sie können dieses Fenster schließen.',
  signedUpDone: 'Ihr Konto ist eingerichtet.',
  signedInDone: 'Sie sind angemeldet.',
  toppedUpDone: (balance) => `Ihr Guthaben beträgt jetzt ${balance}.`,
  returnLink: 'Zurück zur Website',

  errors: {
    email_taken: 'Für diese E-Mail-Adresse gibt es schon ein Konto. Melden Sie sich stattdessen an.',
    weak_password: 'Wählen Sie ein sichereres Passwort.',
    invalid_email: 'Geben Sie eine gültige E-Mail-Adresse ein, zum Beispiel leser@example.com.',
    invalid_credentials: 'E-Mail-Adresse oder Passwort stimmen nicht.',
    account_locked: 'Zu viele fehlgeschlagene Anmeldungen. Versuchen Sie es in 15 Minuten erneut.',
    card_declined: 'Die Karte wurde abgelehnt. Verwenden Sie eine andere Karte.',
    insufficient_funds: 'Die Karte wurde wegen fehlender Deckung abgelehnt. Verwenden Sie eine andere Karte.',
    currency_mismatch: 'Ihr Guthaben wird in einer anderen Währung geführt als diese Aufladung.',
    idempotency_conflict: 'Dieses Formular wurde schon für eine andere Aufladung verwendet. Prüfen Sie die Angaben und senden Sie es erneut.',
    unauthenticated: 'Ihre Sitzung ist abgelaufen. Melden Sie sich erneut an.',
    generic: 'Etwas ist schiefgelaufen. Versuchen Sie es erneut.',
  },
  serviceMessages: {
    'Use at least 8 characters.': 'Verwenden Sie mindestens 8 Zeichen.',
    'This password is too common; choose another.': 'Dieses Passwort ist zu verbreitet; wählen Sie ein anderes.',
    'Use more different characters.': 'Verwenden Sie mehr verschiedene Zeichen.',
    'Do not use your email address as the password.': 'Verwenden Sie nicht Ihre E-Mail-Adresse als Passwort.',
    'This card has expired. Use another card.': 'Diese Karte ist abgelaufen. Verwenden Sie eine andere Karte.',
    'The card was declined by its bank. Use another card.': 'Die Karte wurde von ihrer Bank abgelehnt. Verwenden Sie eine andere Karte.',
    'The card was declined. In the sandbox, use test card 4242 4242 4242 4242.': 'Die Karte wurde abgelehnt. Verwenden Sie in der Sandbox die Testkarte 4242 4242 4242 4242.',
  },
};

export const dictionaries: Record<Lang, Dictionary> = { en, de };

/**
 * The message for an error from the services: English shows the service's own message (it is
 * written for readers and often more specific than the code); German translates it when it is
 * known and otherwise falls back to the code's message.
 */
export function errorMessage(lang: Lang, error: { code: string; message: string }): string {
  const t = dictionaries[lang];
  const byCode = (t.errors as Record<string, string>)[error.code];
  if (lang === 'en') return byCode !== undefined && error.message ? error.message : t.errors.generic;
  return t.serviceMessages[error.message] ?? byCode ?? t.errors.generic;
}
