/** The strings of the hosted checkout and 3-D Secure pages, in English and German (see i18n.ts for the rest). */
import type { PeriodUnit } from '../../src/protocol';
import { LOCALES, type Lang } from './i18n';

export interface PaymentDictionary {
  subscribeTitle: (plan: string) => string;
  payTitle: (product: string) => string;
  /** "€4.99 per month", "€12.00 every 3 months". */
  recurring: (price: string, length: number, unit: PeriodUnit) => string;
  renews: (recurring: string) => string;
  trialThen: (days: number, recurring: string) => string;
  oneOff: (price: string, duration: string) => string;
  duration: (seconds: number) => string;
  includes: (titles: string) => string;
  cardLegend: string;
  subscribeSubmit: (price: string) => string;
  trialSubmit: string;
  paySubmit: (price: string) => string;
  testCards: string;

  linkInvalid: string;
  checkoutExpired: string;
  subscriptionExists: string;
  planUnavailable: string;

  subscribedDone: (plan: string, until: string) => string;
  trialDone: (plan: string, until: string) => string;
  paidDone: (product: string, until: string) => string;
  notStarted: string;

  bankTitle: string;
  bankIntro: (amount: string, what: string) => string;
  bankSandbox: string;
  approve: string;
  fail: string;
  authenticated: string;
  paymentNotAuthenticated: string;
  subscriptionNotAuthenticated: string;
  renewalDone: (plan: string, until: string) => string;
  renewalNotAuthenticated: string;
  authenticationExpired: string;

  providerWaitingTitle: string;
  providerWaiting: string;
  providerDeclined: string;
}

const UNITS_EN: Record<PeriodUnit, [string, string]> = { day: ['day', 'days'], week: ['week', 'weeks'], month: ['month', 'months'], year: ['year', 'years'] };
const UNITS_DE: Record<PeriodUnit, [string, string]> = { day: ['Tag', 'Tage'], week: ['Woche', 'Wochen'], month: ['Monat', 'Monate'], year: ['Jahr', 'Jahre'] };

const en: PaymentDictionary = {
  subscribeTitle: (plan) => `Subscribe to ${plan}`,
  payTitle: (product) => `Pay for ${product}`,
  recurring: (price, length, unit) => (length === 1 ? `${price} per ${UNITS_EN[unit][0]}` : `${price} every ${length} ${UNITS_EN[unit][1]}`),
  renews: (recurring) => `${recurring}, renewed automatically until you cancel.`,
  trialThen: (days, recurring) => `Free for ${days} ${days === 1 ? 'day' : 'days'}, then ${recurring}. Cancel before then and you pay nothing.`,
  oneOff: (price, duration) => `${price} once, for ${duration} of access.`,
  duration: (seconds) => (seconds % 86_400 === 0 ? plural(seconds / 86_400, 'day', 'days') : plural(Math.ceil(seconds / 3600), 'hour', 'hours')),
  includes: (titles) => `Includes: ${titles}.`,
  cardLegend: 'Card',
  subscribeSubmit: (price) => `Subscribe for ${price}`,
  trialSubmit: 'Start the free trial',
  paySubmit: (price) => `Pay ${price}`,
  testCards:
    'This is a sandbox: no real money is charged. Test cards: 4242 4242 4242 4242 never asks for 3-D Secure; 4000 0027 6000 3184 always does; 4000 0025 0000 3155 does on the first payment only; 4000 0000 0000 0341 is accepted now and declined at every renewal; 4000 0000 0000 0002 is declined. Use any future expiry date and any 3 digits as security code.',

  linkInvalid: 'This payment link is not valid. Nothing was charged. Close this window and start again on the website.',
  checkoutExpired: 'This payment link has expired. Nothing was charged. Close this window and start again on the website.',
  subscriptionExists: 'You already subscribe to this plan. Nothing was charged.',
  planUnavailable: 'This plan is no longer offered. Nothing was charged.',

  subscribedDone: (plan, until) => `You now subscribe to ${plan}. The current period runs until ${until}.`,
  trialDone: (plan, until) => `Your free trial of ${plan} has started. It runs until ${until}.`,
  paidDone: (product, until) => `Paid. You can read ${product} until ${until}.`,
  notStarted: 'The subscription did not start and nothing was charged. Go back to the website to try again.',

  bankTitle: 'Confirm the payment',
  bankIntro: (amount, what) => `Your bank asks you to confirm the payment of ${amount} for ${what} (3-D Secure).`,
  bankSandbox: 'This is the sandbox bank page: no bank is contacted. Approve lets the payment go through; Fail refuses it.',
  approve: 'Approve',
  fail: 'Fail',
  authenticated: 'The payment is confirmed with the bank. The website completes the purchase.',
  paymentNotAuthenticated: 'The payment was not confirmed, so nothing was charged. Go back to the website to try again.',
  subscriptionNotAuthenticated: 'The payment was not confirmed, so the subscription did not start and nothing was charged. Go back to the website to try again.',
  renewalDone: (plan, until) => `Thank you: the payment is made and your subscription to ${plan} runs until ${until}.`,
  renewalNotAuthenticated: 'The payment was not confirmed. We will ask again at the next attempt; without a payment the subscription stops.',
  authenticationExpired: 'This confirmation link has expired. Nothing was charged.',
  providerWaitingTitle: 'Confirming your payment',
  providerWaiting: 'The payment provider is confirming your payment. This page updates by itself; the content opens as soon as the payment is confirmed.',
  providerDeclined: 'The payment was not completed. Nothing was charged. You can try again.',
};

const de: PaymentDictionary = {
  subscribeTitle: (plan) => `${plan} abonnieren`,
  payTitle: (product) => `${product} bezahlen`,
  recurring: (price, length, unit) => (length === 1 ? `${price} pro ${UNITS_DE[unit][0]}` : `${price} alle ${length} ${UNITS_DE[unit][1]}`),
  renews: (recurring) => `${recurring}, verlängert sich automatisch, bis Sie kündigen.`,
  trialThen: (days, recurring) => `${days} ${days === 1 ? 'Tag' : 'Tage'} kostenlos, danach ${recurring}. Wenn Sie vorher kündigen, zahlen Sie nichts.`,
  oneOff: (price, duration) => `${price} einmalig, für ${duration} Zugang.`,
  duration: (seconds) => (seconds % 86_400 === 0 ? plural(seconds / 86_400, 'Tag', 'Tage') : plural(Math.ceil(seconds / 3600), 'Stunde', 'Stunden')),
  includes: (titles) => `Enthält: ${titles}.`,
  cardLegend: 'Karte',
  subscribeSubmit: (price) => `Für ${price} abonnieren`,
  trialSubmit: 'Kostenlos testen',
  paySubmit: (price) => `${price} bezahlen`,
  testCards:
    'Dies ist eine Sandbox: Es wird kein echtes Geld abgebucht. Testkarten: 4242 4242 4242 4242 fragt nie nach 3-D Secure; 4000 0027 6000 3184 fragt immer; 4000 0025 0000 3155 fragt nur bei der ersten Zahlung; 4000 0000 0000 0341 wird jetzt angenommen und bei jeder Verlängerung abgelehnt; 4000 0000 0000 0002 wird abgelehnt. Verwenden Sie ein beliebiges künftiges Ablaufdatum und drei beliebige Ziffern als Prüfnummer.',

  linkInvalid: 'Dieser Zahlungslink ist ungültig. Es wurde nichts abgebucht. Schließen Sie dieses Fenster und beginnen Sie auf der Website neu.',
  checkoutExpired: 'Dieser Zahlungslink ist abgelaufen. Es wurde nichts abgebucht. Schließen Sie dieses Fenster und beginnen Sie auf der Website neu.',
  subscriptionExists: 'Sie haben diesen Plan bereits abonniert. Es wurde nichts abgebucht.',
  planUnavailable: 'Dieser Plan wird nicht mehr angeboten. Es wurde nichts abgebucht.',

  subscribedDone: (plan, until) => `Sie haben ${plan} abonniert. Der laufende Zeitraum dauert bis ${until}.`,
  trialDone: (plan, until) => `Ihr kostenloser Test von ${plan} hat begonnen. Er läuft bis ${until}.`,
  paidDone: (product, until) => `Bezahlt. Sie können ${product} bis ${until} lesen.`,
  notStarted: 'Das Abonnement wurde nicht abgeschlossen und es wurde nichts abgebucht. Kehren Sie zur Website zurück, um es erneut zu versuchen.',

  bankTitle: 'Zahlung bestätigen',
  bankIntro: (amount, what) => `Ihre Bank bittet Sie, die Zahlung von ${amount} für ${what} zu bestätigen (3-D Secure).`,
  bankSandbox: 'Dies ist die Bankseite der Sandbox: Es wird keine Bank kontaktiert. „Bestätigen“ lässt die Zahlung zu, „Ablehnen“ verweigert sie.',
  approve: 'Bestätigen',
  fail: 'Ablehnen',
  authenticated: 'Die Zahlung ist bei der Bank bestätigt. Die Website schließt den Kauf ab.',
  paymentNotAuthenticated: 'Die Zahlung wurde nicht bestätigt, daher wurde nichts abgebucht. Kehren Sie zur Website zurück, um es erneut zu versuchen.',
  subscriptionNotAuthenticated: 'Die Zahlung wurde nicht bestätigt, daher wurde das Abonnement nicht abgeschlossen und nichts abgebucht. Kehren Sie zur Website zurück, um es erneut zu versuchen.',
  renewalDone: (plan, until) => `Vielen Dank: Die Zahlung ist erfolgt, Ihr Abonnement von ${plan} läuft bis ${until}.`,
  renewalNotAuthenticated: 'Die Zahlung wurde nicht bestätigt. Wir fragen beim nächsten Versuch erneut; ohne Zahlung endet das Abonnement.',
  authenticationExpired: 'Dieser Bestätigungslink ist abgelaufen. Es wurde nichts abgebucht.',
  providerWaitingTitle: 'Zahlung wird bestätigt',
  providerWaiting: 'Der Zahlungsanbieter bestätigt Ihre Zahlung. Diese Seite aktualisiert sich selbst; der Inhalt öffnet sich, sobald die Zahlung bestätigt ist.',
  providerDeclined: 'Die Zahlung wurde nicht abgeschlossen. Es wurde nichts abgebucht. Sie können es erneut versuchen.',
};

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export const paymentDictionaries: Record<Lang, PaymentDictionary> = { en, de };

/** A date for the hosted pages, e.g. "3 March 2026" (en) or "3. März 2026" (de), on the UTC calendar billing uses. */
export function formatDate(ms: number, lang: Lang): string {
  return new Intl.DateTimeFormat(LOCALES[lang], { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(ms));
}
