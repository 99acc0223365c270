import type { HostedMessage } from '../../src/protocol/hosted-messages';
import type { HostedPage } from '../domain/hosted-urls';
import { attr, html, type SafeHtml } from './html';
import { dictionaries, LOCALES, type Dictionary, type Lang } from './i18n';
import { hostedHref, type HostedParams } from './params';

export const CSS_PATH = '/hosted/assets/hosted.css';
export const ICON_PATH = '/hosted/assets/icon.svg';
export const SCRIPT_PATH = '/hosted/assets/complete.js';
const ERROR_ID = 'form-error';

/** A localized amount from integer minor units, e.g. 1000 EUR → "€10.00" (en) or "10,00 €" (de). */
export function formatMoney(minor: number, currency: string, lang: Lang): string {
  const format = new Intl.NumberFormat(LOCALES[lang], { style: 'currency', currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(minor / 10 ** digits);
}

/** A problem with one submitted form: the message, and the field it is about (if any). */
export interface FormError<Field extends string = string> {
  message: string;
  field?: Field | undefined;
  /** Some errors (wrong email or password) concern more than one field. */
  fields?: Field[];
}

export function faultFields<F extends string>(error: FormError<F> | undefined): F[] {
  if (!error) return [];
  return error.fields ?? (error.field ? [error.field] : []);
}

export interface LayoutOptions {
  params: HostedParams;
  title: string;
  /** The page to link to in the other language, or null for none. */
  page: HostedPage | null;
  /** For pages outside `HostedPage` (checkout, 3-D Secure): the link to the same page in `lang`. */
  languageHref?: (lang: Lang) => string;
  /** Parameters for that link, when they differ from the page's own. */
  linkParams?: HostedParams;
  body: SafeHtml;
  /** Attributes for <main>, e.g. the completion message. */
  mainAttrs?: SafeHtml;
  script?: boolean;
  refreshSeconds?: number;
}

export function layout({ params, title, page, linkParams = params, languageHref, body, mainAttrs, script = true, refreshSeconds }: LayoutOptions): string {
  const t = dictionaries[params.lang];
  const other: Lang = params.lang === 'en' ? 'de' : 'en';
  return `<!doctype html>\n${html`<html lang="${params.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
${refreshSeconds ? html`<meta http-equiv="refresh" content="${String(refreshSeconds)}">` : ''}
<link rel="icon" href="${ICON_PATH}" type="image/svg+xml">
<link rel="stylesheet" href="${CSS_PATH}">
${script ? html`<script src="${SCRIPT_PATH}" defer></script>` : ''}
</head>
<body>
${page || languageHref ? html`<nav class="lang" aria-label="${t.languageNav}"><a href="${languageHref ? languageHref(other) : hostedHref(page!, linkParams, { lang: other })}" lang="${other}" hreflang="${other}">${dictionaries[other].languageName}</a></nav>` : ''}
<main id="main"${mainAttrs ?? ''}>
${body}
</main>
</body>
</html>`}\n`;
}

/** Data attributes complete.js reads: where to post and where to return when there is no opener. */
export function targetAttrs(params: HostedParams): SafeHtml {
  return html`${attr('data-target-origin', params.origin)}${attr('data-return-url', params.returnUrl)}`;
}

export interface FieldOptions {
  id: string;
  label: string;
  type?: string;
  name?: string;
  value?: string;
  autocomplete?: string;
  inputmode?: string;
  hint?: string;
  autofocus?: boolean;
  invalid?: boolean;
  required?: boolean;
  extra?: SafeHtml;
}

export function field(o: FieldOptions): SafeHtml {
  const hintId = o.hint ? `${o.id}-hint` : undefined;
  const describedBy = [o.invalid ? ERROR_ID : undefined, hintId].filter(Boolean).join(' ');
  return html`<div class="field">
<label for="${o.id}">${o.label}</label>
<input id="${o.id}" name="${o.name ?? o.id}" type="${o.type ?? 'text'}"${attr('value', o.value || null)}${attr('autocomplete', o.autocomplete)}${attr('inputmode', o.inputmode)}${attr('required', o.required ?? true)}${attr('autofocus', !!o.autofocus)}${attr('aria-invalid', o.invalid ? 'true' : null)}${attr('aria-describedby', describedBy || null)}${o.extra ?? ''}>
${o.hint ? html`<p class="hint" id="${hintId}">${o.hint}</p>` : ''}
</div>`;
}

export function alertBox(error: FormError | undefined): SafeHtml {
  return error ? html`<p class="alert" id="${ERROR_ID}" role="alert">${error.message}</p>` : html``;
}

/** Cancel reports `cancelled` through complete.js; the status line is what it shows when nobody listens. */
export function actions(t: Dictionary, submit: string): SafeHtml {
  return html`<div class="actions">
<button type="submit">${submit}</button>
<button type="button" class="secondary" data-paywall-cancel>${t.cancel}</button>
</div>`;
}

export function cancelledStatus(t: Dictionary): SafeHtml {
  return html`<p class="status" id="paywall-status" role="status" hidden>${t.cancelled}</p>`;
}

// ---------------------------------------------------------------------------------------------
// Sign-up

export type SignUpField = 'email' | 'password' | 'consent';

export function signUpPage(params: HostedParams, state: { email?: string; consent?: boolean; error?: FormError<SignUpField>; startCredit?: { amount: number; currency: string } }): string {
  const t = dictionaries[params.lang];
  const fault = faultFields(state.error);
  const focus: SignUpField = fault[0] ?? 'email';
  const credit = state.startCredit && state.startCredit.amount > 0 ? formatMoney(state.startCredit.amount, state.startCredit.currency, params.lang) : null;
  const body = html`<h1>${t.signUpTitle}</h1>
${credit ? html`<p>${t.startCredit(credit)}</p>` : ''}
<form method="post" action="${hostedHref('sign-up', params)}">
${alertBox(state.error)}
${field({ id: 'email', label: t.email, type: 'email', value: state.email, autocomplete: 'email', autofocus: focus === 'email', invalid: fault.includes('email'), extra: html` maxlength="254" spellcheck="false" autocapitalize="none"` })}
${field({ id: 'password', label: t.password, type: 'password', autocomplete: 'new-password', hint: t.passwordHint, autofocus: focus === 'password', invalid: fault.includes('password'), extra: html` minlength="8" maxlength="1024"` })}
<div class="field checkbox">
<input id="consent" name="consent" type="checkbox" value="yes" required${attr('checked', !!state.consent)}${attr('autofocus', focus === 'consent')}${attr('aria-invalid', fault.includes('consent') ? 'true' : null)}${attr('aria-describedby', fault.includes('consent') ? ERROR_ID : null)}>
<label for="consent">${t.consent}</label>
</div>
${actions(t, t.signUpSubmit)}
</form>
<p>${t.haveAccount} <a href="${hostedHref('sign-in', params)}">${t.signInLink}</a></p>
${cancelledStatus(t)}`;
  return layout({ params, title: t.signUpTitle, page: 'sign-up', body, mainAttrs: targetAttrs(params) });
}

// ---------------------------------------------------------------------------------------------
// Sign-in

export type SignInField = 'email' | 'password';

export function signInPage(params: HostedParams, state: { email?: string; error?: FormError<SignInField> }): string {
  const t = dictionaries[params.lang];
  const fault = faultFields(state.error);
  const focus: SignInField = fault[0] ?? 'email';
  const body = html`<h1>${t.signInTitle}</h1>
${params.next === 'top-up' ? html`<p>${t.signInToTopUp}</p>` : ''}
<form method="post" action="${hostedHref('sign-in', params)}">
${alertBox(state.error)}
${field({ id: 'email', label: t.email, type: 'email', value: state.email, autocomplete: 'email', autofocus: focus === 'email', invalid: fault.includes('email'), extra: html` maxlength="254" spellcheck="false" autocapitalize="none"` })}
${field({ id: 'password', label: t.password, type: 'password', autocomplete: 'current-password', autofocus: focus === 'password', invalid: fault.includes('password'), extra: html` maxlength="1024"` })}
${actions(t, t.signInSubmit)}
</form>
<p>${t.noAccount} <a href="${hostedHref('sign-up', params)}">${t.signUpLink}</a></p>
${cancelledStatus(t)}`;
  // In the top-up flow the language switch leads back to the top-up URL, which shows this form until signed in.
  const switchTo = params.next === 'top-up' ? { page: 'top-up' as const, linkParams: { ...params, next: undefined } } : { page: 'sign-in' as const };
  return layout({ params, title: t.signInTitle, ...switchTo, body, mainAttrs: targetAttrs(params) });
}

// ---------------------------------------------------------------------------------------------
// Top-up

export type CardField = 'cardNumber' | 'expMonth' | 'expYear' | 'cvc';
export type TopUpField = 'amount' | CardField;

/** Card number, expiry and security code: the same fields on the top-up and checkout forms. The number and code are never refilled. */
export function cardFields(t: Dictionary, state: { expMonth?: string | undefined; expYear?: string | undefined }, focus: string, fault: readonly string[]): SafeHtml {
  return html`${field({ id: 'cardNumber', label: t.cardNumber, autocomplete: 'cc-number', inputmode: 'numeric', hint: t.cardNumberHint, autofocus: focus === 'cardNumber', invalid: fault.includes('cardNumber'), extra: html` maxlength="30" spellcheck="false"` })}
<fieldset class="expiry">
<legend>${t.expiryLegend}</legend>
${field({ id: 'expMonth', label: t.expMonth, value: state.expMonth, autocomplete: 'cc-exp-month', inputmode: 'numeric', autofocus: focus === 'expMonth', invalid: fault.includes('expMonth'), extra: html` maxlength="2" size="2"` })}
${field({ id: 'expYear', label: t.expYear, value: state.expYear, autocomplete: 'cc-exp-year', inputmode: 'numeric', autofocus: focus === 'expYear', invalid: fault.includes('expYear'), extra: html` maxlength="4" size="4"` })}
</fieldset>
${field({ id: 'cvc', label: t.cvc, autocomplete: 'cc-csc', inputmode: 'numeric', autofocus: focus === 'cvc', invalid: fault.includes('cvc'), extra: html` maxlength="4" size="4"` })}`;
}

export const AMOUNT_CHOICES = [500, 1000, 2000] as const;

/** The amount choices, and which one is preselected: the smallest that covers `missing`, which is added when none does. */
export function amountChoices(missing: number | undefined): { choices: number[]; preselected: number } {
  const choices: number[] = [...AMOUNT_CHOICES];
  if (missing === undefined) return { choices, preselected: choices[0]! };
  const covering = choices.find((choice) => choice >= missing);
  if (covering !== undefined) return { choices, preselected: covering };
  choices.push(missing);
  return { choices, preselected: missing };
}

export interface TopUpState {
  email: string;
  currency: string;
  idempotencyKey: string;
  amount?: number;
  expMonth?: string;
  expYear?: string;
  error?: FormError<TopUpField>;
}

export function topUpPage(params: HostedParams, state: TopUpState): string {
  const t = dictionaries[params.lang];
  const fault = faultFields(state.error);
  const { choices, preselected } = amountChoices(params.amount);
  const selected = state.amount !== undefined && choices.includes(state.amount) ? state.amount : preselected;
  const focus: TopUpField = fault[0] ?? 'amount';
  const amountInvalid = fault.includes('amount');
  const radios = choices.map(
    (choice) => html`<div class="choice">
<input id="amount-${choice}" name="amount" type="radio" value="${choice}" required${attr('checked', choice === selected)}${attr('autofocus', focus === 'amount' && choice === selected)}${attr('aria-invalid', amountInvalid ? 'true' : null)}${attr('aria-describedby', amountInvalid ? ERROR_ID : null)}>
<label for="amount-${choice}">${formatMoney(choice, state.currency, params.lang)}</label>
</div>`,
  );
  const body = html`<h1>${t.topUpTitle}</h1>
<p>${t.signedInAs(state.email)} <a href="${hostedHref('sign-in', params, { next: 'top-up' })}">${t.useAnotherAccount}</a></p>
${params.amount !== undefined ? html`<p>${t.missingAmount(formatMoney(params.amount, state.currency, params.lang))}</p>` : ''}
<form method="post" action="${hostedHref('top-up', params, { next: null })}">
${alertBox(state.error)}
<fieldset class="amounts">
<legend>${t.amountLegend}</legend>
${radios}
</fieldset>
${cardFields(t, state, focus, fault)}
<input type="hidden" name="idempotencyKey" value="${state.idempotencyKey}">
<p class="hint" id="test-cards">${t.testCards}</p>
${actions(t, t.topUpSubmit)}
</form>
${cancelledStatus(t)}`;
  return layout({ params, title: t.topUpTitle, page: 'top-up', body, mainAttrs: targetAttrs(params) });
}

// ---------------------------------------------------------------------------------------------
// Completion and errors

/** The URL fragment a return URL gets: the result never goes into a query string, so never into a server log. */
export function resultFragment(message: HostedMessage): string {
  const fragment = new URLSearchParams({ 'paywall-type': message.type });
  if (message.token) fragment.set('paywall-token', message.token);
  if (message.subscription) fragment.set('paywall-subscription', message.subscription);
  if (message.product) fragment.set('paywall-product', message.product);
  return fragment.toString();
}

/**
 * Where the reader goes back to without an opener: the return URL with the result in its
 * fragment; a card payment's intent id also goes into the query as `payment_intent`, as a bank's
 * 3-D Secure page returns it (the id alone is no secret: reading the intent needs the session).
 */
export function returnHref(returnUrl: string, message: HostedMessage): string {
  const url = new URL(returnUrl.split('#')[0]!);
  if (message.paymentIntent) url.searchParams.set('payment_intent', message.paymentIntent);
  return `${url.href}#${resultFragment(message)}`;
}

export function completePage(params: HostedParams, message: HostedMessage, detail: string): string {
  const t = dictionaries[params.lang];
  const backHref = params.returnUrl ? returnHref(params.returnUrl, message) : null;
  const mainAttrs = html` data-paywall-complete data-message="${JSON.stringify(message)}"${targetAttrs(params)}`;
  const body = html`<h1>${t.doneTitle}</h1>
<p>${detail}</p>
<p class="status" id="paywall-status" role="status">${t.done}</p>
${backHref ? html`<p><a href="${backHref}">${t.returnLink}</a></p>` : ''}`;
  return layout({ params, title: t.doneTitle, page: null, body, mainAttrs });
}

/** A page that reports a problem and sends nothing anywhere: no script, no completion data. */
export function errorPage(lang: Lang, message: string): string {
  const t = dictionaries[lang];
  const body = html`<h1>${t.errorTitle}</h1>
<p class="alert" role="alert">${message}</p>
<p>${t.closeWindow}</p>`;
  return layout({ params: { lang }, title: t.errorTitle, page: null, body, script: false });
}
