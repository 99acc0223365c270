export type Locale = 'en' | 'de';

const en = {
  buy: (price: string) => `Buy for ${price}`,
  read: (price: string) => `Read for ${price}`,
  buyNoPrice: 'Buy access',
  purchased: 'Purchased',
  checking: 'Checking access…',
  working: 'Processing purchase…',
  windowOpen: 'Continue in the window that opened.',
  signingIn: 'Sign in or create an account in the window that opened.',
  toppingUp: 'Top up your wallet in the window that opened.',
  granted: 'Access granted.',
  redirecting: 'Opening the payment page…',
  closedWindow: 'The window was closed. Nothing was charged.',
  tryAgain: 'Try again',
  configError: 'Paywall is not configured: set a backend.',
  loading: 'Loading…',
  locked: 'This content is for paying readers.',
  signIn: 'Sign in',
  signUp: 'Create account',
  signOut: 'Sign out',
  topUp: 'Top up',
  balance: 'Balance',
  wallet: 'Wallet',
  errors: {
    network_error: 'The connection failed. Check your connection and try again.',
    invalid_response: 'The payment service answered unexpectedly. Try again later.',
    price_mismatch: 'The price has changed. Reload the page to see the current price.',
    popup_closed: 'The window was closed. Nothing was charged.',
    purchase_in_progress: 'This purchase is already in progress.',
    insufficient_funds: 'Your balance is too low.',
    unknown_product: 'This item is not for sale.',
    offer_expired: 'This offer has expired. Reload the page.',
    invalid_offer: 'This offer is not valid.',
    configuration_error: 'Paywall is not configured correctly.',
    generic: 'Something went wrong. Try again.',
  } as Record<string, string>,
};

const de: typeof en = {
  buy: (price) => `Für ${price} kaufen`,
  read: (price) => `Für ${price} lesen`,
  buyNoPrice: 'Zugang kaufen',
  purchased: 'Gekauft',
  checking: 'Zugang wird geprüft …',
  working: 'Kauf wird ausgeführt …',
  windowOpen: 'Bitte im geöffneten Fenster fortfahren.',
  signingIn: 'Bitte im geöffneten Fenster anmelden oder ein Konto anlegen.',
  toppingUp: 'Bitte im geöffneten Fenster Guthaben aufladen.',
  granted: 'Zugang freigeschaltet.',
  redirecting: 'Die Zahlungsseite wird geöffnet …',
  closedWindow: 'Das Fenster wurde geschlossen. Es wurde nichts abgebucht.',
  tryAgain: 'Erneut versuchen',
  configError: 'Paywall ist nicht konfiguriert: Backend fehlt.',
  loading: 'Wird geladen …',
  locked: 'Dieser Inhalt ist für zahlende Leserinnen und Leser.',
  signIn: 'Anmelden',
  signUp: 'Konto anlegen',
  signOut: 'Abmelden',
  topUp: 'Aufladen',
  balance: 'Guthaben',
  wallet: 'Guthaben',
  errors: {
    network_error: 'Die Verbindung ist fehlgeschlagen. Bitte erneut versuchen.',
    invalid_response: 'Der Zahlungsdienst hat unerwartet geantwortet. Bitte später erneut versuchen.',
    price_mismatch: 'Der Preis hat sich geändert. Bitte die Seite neu laden.',
    popup_closed: 'Das Fenster wurde geschlossen. Es wurde nichts abgebucht.',
    purchase_in_progress: 'Dieser Kauf läuft bereits.',
    insufficient_funds: 'Ihr Guthaben reicht nicht aus.',
    unknown_product: 'Dieser Artikel ist nicht verkäuflich.',
    offer_expired: 'Dieses Angebot ist abgelaufen. Bitte die Seite neu laden.',
    invalid_offer: 'Dieses Angebot ist ungültig.',
    configuration_error: 'Paywall ist nicht richtig konfiguriert.',
    generic: 'Etwas ist schiefgegangen. Bitte erneut versuchen.',
  },
};

export type Messages = typeof en;
const dictionaries: Record<Locale, Messages> = { en, de };

/** `de-AT` → `de`; anything unknown → English. */
export function toLocale(value: string | null | undefined): Locale {
  const base = (value ?? '').toLowerCase().split(/[-_]/)[0];
  return base === 'de' ? 'de' : 'en';
}

export function messages(locale: Locale): Messages {
  return dictionaries[locale];
}

export function errorText(locale: Locale, code: string, fallback?: string): string {
  const known = dictionaries[locale].errors;
  return known[code] ?? (locale === 'en' && fallback ? fallback : known.generic!);
}

/** Integer minor units to a localized price, using the currency's own number of decimals. */
export function formatMoney(minor: number, currency: string, locale: Locale): string {
  const format = new Intl.NumberFormat(locale === 'de' ? 'de-DE' : 'en-IE', { style: 'currency', currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(minor / 10 ** digits);
}

/** A validity in seconds as the largest whole unit: "30 days", "24 Stunden". */
export function formatDuration(seconds: number, locale: Locale): string {
  const units: Array<[Intl.NumberFormatOptions['unit'], number]> = [['year', 31_536_000], ['day', 86_400], ['hour', 3_600], ['minute', 60]];
  const [unit, size] = units.find(([, size]) => seconds >= size && seconds % size === 0) ?? ['minute', 60];
  return new Intl.NumberFormat(locale === 'de' ? 'de-DE' : 'en-IE', { style: 'unit', unit, unitDisplay: 'long' }).format(Math.max(1, Math.round(seconds / size)));
}
