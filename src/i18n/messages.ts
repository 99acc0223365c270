export type Locale = 'en' | 'de';

const en = {
  buy: (price: string) => `Buy for ${price}`,
  read: (price: string) => `Read for ${price}`,
  buyNoPrice: 'Buy access',
  purchased: 'Purchased',
  checking: 'Checking access…',
  working: 'Processing purchase…',
  signingIn: 'Sign in or create an account in the window that opened.',
  showWindow: 'Show the window',
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
  plans: 'Subscription plans',
  perPeriod: (price: string, period: string) => `${price} / ${period}`,
  periodUnits: { day: ['day', 'days'], week: ['week', 'weeks'], month: ['month', 'months'], year: ['year', 'years'] } as Record<string, [string, string]>,
  trial: (days: number) => `${days}-day free trial`,
  subscribeWith: { wallet: 'Subscribe with wallet', card: 'Subscribe with card' } as Record<string, string>,
  yourSubscription: 'Your subscription',
  subscriptionStatus: {
    active: 'Active',
    incomplete: 'Waiting for payment verification',
    incomplete_expired: 'Verification expired',
    past_due: 'Payment overdue',
    canceled: 'Canceled',
    expired: 'Expired',
    failed: 'Payment failed',
  } as Record<string, string>,
  nextBilling: (date: string) => `Next payment on ${date}`,
  accessUntil: (date: string) => `Access until ${date}`,
  paidWithCard: (brand: string, last4: string) => `${brand} ending in ${last4}`,
  paidFromWallet: 'Paid from your wallet',
  billedBy: (provider: string) => `Billed by ${provider}`,
  cancelAtProvider: 'Cancel on the payment provider’s page',
  cancelSubscription: 'Cancel subscription',
  keepSubscription: 'Keep subscription',
  confirmCancel: (title: string, until: string | null) => `Cancel ${title}?${until ? ` You keep access until ${until}.` : ''}`,
  canceled: 'Subscription canceled.',
  kept: 'Subscription kept.',
  subscribed: 'Subscription started.',
  paying: 'Enter your card in the window that opened.',
  verificationNeeded: 'Your bank asks you to verify this payment.',
  completeVerification: 'Complete verification',
  verifying: 'Verify the payment in the window that opened.',
  confirmingPayment: 'Confirming the payment…',
  paymentConfirmed: 'Payment confirmed. Access granted.',
  connectWallet: (name: string) => `Connect ${name} wallet`,
  walletConnected: (name: string) => `${name} wallet connected`,
  connectingWallet: 'Connect your wallet in the window that opened.',
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
    authentication_failed: 'Your bank did not confirm the payment. Nothing was charged; try again.',
    authentication_required: 'Verify the payment with your bank first.',
    card_declined: 'The card was declined.',
    intent_expired: 'This payment has expired. Nothing was charged; start again.',
    subscription_exists: 'You already have this subscription.',
    cancel_at_provider: 'This subscription is billed by a payment provider: cancel it on their page.',
    provider_unavailable: 'The payment provider could not be reached. Nothing was changed; try again in a moment.',
    payment_method_unavailable: 'This payment method is not available right now.',
    currency_unsupported: 'This payment method does not take this currency.',
    sign_in_required: 'Sign in to continue.',
    popup_blocked: 'The browser blocked the window. Allow pop-ups for this site and try again.',
    wallet_connect_declined: 'The wallet was not connected.',
    account_locked: 'This wallet account is locked.',
    milkipay_account_error: 'Milkipay cannot use this wallet account.',
    milkipay_error: 'Milkipay refused the request.',
    milkipay_unavailable: 'Milkipay is not reachable right now. Try again later.',
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
  signingIn: 'Bitte im geöffneten Fenster anmelden oder ein Konto anlegen.',
  showWindow: 'Fenster zeigen',
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
  plans: 'Abo-Angebote',
  perPeriod: (price, period) => `${price} / ${period}`,
  periodUnits: { day: ['Tag', 'Tage'], week: ['Woche', 'Wochen'], month: ['Monat', 'Monate'], year: ['Jahr', 'Jahre'] },
  trial: (days) => `${days} Tage kostenlos testen`,
  subscribeWith: { wallet: 'Mit Guthaben abonnieren', card: 'Mit Karte abonnieren' },
  yourSubscription: 'Ihr Abo',
  subscriptionStatus: {
    active: 'Aktiv',
    incomplete: 'Wartet auf Bestätigung der Zahlung',
    incomplete_expired: 'Bestätigung abgelaufen',
    past_due: 'Zahlung überfällig',
    canceled: 'Gekündigt',
    expired: 'Abgelaufen',
    failed: 'Zahlung fehlgeschlagen',
  },
  nextBilling: (date) => `Nächste Zahlung am ${date}`,
  accessUntil: (date) => `Zugang bis ${date}`,
  paidWithCard: (brand, last4) => `${brand} mit Endziffern ${last4}`,
  paidFromWallet: 'Zahlung aus dem Guthaben',
  billedBy: (provider) => `Abgerechnet über ${provider}`,
  cancelAtProvider: 'Auf der Seite des Zahlungsanbieters kündigen',
  cancelSubscription: 'Abo kündigen',
  keepSubscription: 'Abo behalten',
  confirmCancel: (title, until) => `${title} kündigen?${until ? ` Der Zugang bleibt bis ${until}.` : ''}`,
  canceled: 'Abo gekündigt.',
  kept: 'Abo bleibt bestehen.',
  subscribed: 'Abo abgeschlossen.',
  paying: 'Bitte im geöffneten Fenster die Karte eingeben.',
  verificationNeeded: 'Ihre Bank möchte diese Zahlung bestätigen lassen.',
  completeVerification: 'Verifizierung abschließen',
  verifying: 'Bitte die Zahlung im geöffneten Fenster bestätigen.',
  confirmingPayment: 'Zahlung wird bestätigt …',
  paymentConfirmed: 'Zahlung bestätigt. Zugang freigeschaltet.',
  connectWallet: (name) => `${name}-Wallet verbinden`,
  walletConnected: (name) => `${name}-Wallet verbunden`,
  connectingWallet: 'Bitte das Wallet im geöffneten Fenster verbinden.',
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
    authentication_failed: 'Ihre Bank hat die Zahlung nicht bestätigt. Es wurde nichts abgebucht; bitte erneut versuchen.',
    authentication_required: 'Bitte die Zahlung zuerst bei Ihrer Bank bestätigen.',
    card_declined: 'Die Karte wurde abgelehnt.',
    intent_expired: 'Diese Zahlung ist abgelaufen. Es wurde nichts abgebucht; bitte neu beginnen.',
    subscription_exists: 'Sie haben dieses Abo bereits.',
    cancel_at_provider: 'Dieses Abo rechnet ein Zahlungsanbieter ab: bitte auf dessen Seite kündigen.',
    provider_unavailable: 'Der Zahlungsanbieter ist gerade nicht erreichbar. Es wurde nichts geändert; bitte gleich erneut versuchen.',
    payment_method_unavailable: 'Diese Zahlungsart ist gerade nicht verfügbar.',
    currency_unsupported: 'Diese Zahlungsart nimmt diese Währung nicht an.',
    sign_in_required: 'Bitte anmelden, um fortzufahren.',
    popup_blocked: 'Der Browser hat das Fenster blockiert. Bitte Pop-ups für diese Seite erlauben und erneut versuchen.',
    wallet_connect_declined: 'Das Wallet wurde nicht verbunden.',
    account_locked: 'Dieses Wallet-Konto ist gesperrt.',
    milkipay_account_error: 'Milkipay kann dieses Wallet-Konto nicht verwenden.',
    milkipay_error: 'Milkipay hat die Anfrage abgelehnt.',
    milkipay_unavailable: 'Milkipay ist gerade nicht erreichbar. Bitte später erneut versuchen.',
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

const numberFormats = new Map<string, Intl.NumberFormat>();

/** Creating an Intl.NumberFormat costs far more than using one, and a page may render hundreds of prices. */
function numberFormat(locale: Locale, options: Intl.NumberFormatOptions = {}): Intl.NumberFormat {
  const key = `${locale} ${JSON.stringify(options)}`;
  let format = numberFormats.get(key);
  if (!format) numberFormats.set(key, (format = new Intl.NumberFormat(locale === 'de' ? 'de-DE' : 'en-IE', options)));
  return format;
}

const moneyFormats = new Map<string, { format: Intl.NumberFormat; digits: number }>();

/** Integer minor units to a localized price, using the currency's own number of decimals. */
export function formatMoney(minor: number, currency: string, locale: Locale): string {
  const key = `${locale} ${currency}`;
  let money = moneyFormats.get(key);
  if (!money) {
    const format = numberFormat(locale, { style: 'currency', currency });
    moneyFormats.set(key, (money = { format, digits: format.resolvedOptions().maximumFractionDigits ?? 2 }));
  }
  return money.format.format(minor / 10 ** money.digits);
}

/** A validity in seconds as the largest whole unit: "30 days", "24 Stunden". */
export function formatDuration(seconds: number, locale: Locale): string {
  const units: Array<[Intl.NumberFormatOptions['unit'], number]> = [['year', 31_536_000], ['day', 86_400], ['hour', 3_600], ['minute', 60]];
  const [unit, size] = units.find(([, size]) => seconds >= size && seconds % size === 0) ?? ['minute', 60];
  return numberFormat(locale, { style: 'unit', unit, unitDisplay: 'long' }).format(Math.max(1, Math.round(seconds / size)));
}

/** A billing period: "month", "3 months", "Monat", "3 Monate". */
export function formatPeriod(length: number, unit: string, locale: Locale): string {
  const [one, many] = dictionaries[locale].periodUnits[unit] ?? [unit, unit];
  return length === 1 ? one : `${numberFormat(locale).format(length)} ${many}`;
}

/** A plan's price per period: "€4.99 / month", "4,99 € / Monat". */
export function formatPlanPrice(plan: { price: number; currency: string; periodLength: number; periodUnit: string }, locale: Locale): string {
  return dictionaries[locale].perPeriod(formatMoney(plan.price, plan.currency, locale), formatPeriod(plan.periodLength, plan.periodUnit, locale));
}

/** An ISO date as the reader writes it: "1 March 2026", "1. März 2026". */
export function formatDate(iso: string, locale: Locale): string {
  return new Intl.DateTimeFormat(locale === 'de' ? 'de-DE' : 'en-IE', { dateStyle: 'long' }).format(new Date(iso));
}
