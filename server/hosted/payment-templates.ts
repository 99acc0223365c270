import type { CatalogPlan } from '../config';
import { attr, html } from './html';
import { dictionaries, type Lang } from './i18n';
import type { HostedParams } from './params';
import { formatDate, paymentDictionaries } from './payment-i18n';
import { actions, alertBox, cancelledStatus, cardFields, faultFields, formatMoney, layout, targetAttrs, type CardField, type FormError } from './templates';


export interface CheckoutPageInput {
  kind: 'subscription' | 'payment';
  title: string;
  price: number;
  currency: string;
  /** Seconds of access, for a one-off payment. */
  validity: number | null;
  plan: CatalogPlan | null;
  /** Titles of the products a plan includes. */
  includes: string[];
  action: string;
  languageHref: (lang: Lang) => string;
}

/** The hosted checkout: what is bought, at which price and period, and the card form. */
export function checkoutPage(params: HostedParams, input: CheckoutPageInput, state: { expMonth?: string; expYear?: string; error?: FormError<CardField> } = {}): string {
  const t = dictionaries[params.lang];
  const p = paymentDictionaries[params.lang];
  const price = formatMoney(input.price, input.currency, params.lang);
  const fault = faultFields(state.error);
  const focus: CardField = fault[0] ?? 'cardNumber';
  const plan = input.plan;
  const title = input.kind === 'subscription' ? p.subscribeTitle(input.title) : p.payTitle(input.title);
  const recurring = plan ? p.recurring(price, plan.periodLength, plan.periodUnit) : '';
  const summary = !plan ? p.oneOff(price, p.duration(input.validity ?? 0)) : plan.trialDays ? p.trialThen(plan.trialDays, recurring) : p.renews(recurring);
  const submit = !plan ? p.paySubmit(price) : plan.trialDays ? p.trialSubmit : p.subscribeSubmit(price);
  const body = html`<h1>${title}</h1>
<p>${summary}</p>
${input.includes.length ? html`<p class="hint">${p.includes(input.includes.join(', '))}</p>` : ''}
<form method="post" action="${input.action}">
${alertBox(state.error)}
${cardFields(t, state, focus, fault)}
<p class="hint" id="test-cards">${p.testCards}</p>
${actions(t, submit)}
</form>
${cancelledStatus(t)}`;
  return layout({ params, title, page: null, languageHref: input.languageHref, body, mainAttrs: targetAttrs(params) });
}

/** The sandbox bank's 3-D Secure page: approve or fail. It reports nothing itself; the answer's page does. */
export function bankPage(params: HostedParams, input: { amount: number; currency: string; what: string; action: string; languageHref: (lang: Lang) => string; error?: string }): string {
  const p = paymentDictionaries[params.lang];
  const body = html`<h1>${p.bankTitle}</h1>
<p>${p.bankIntro(formatMoney(input.amount, input.currency, params.lang), input.what)}</p>
<p class="hint" id="test-cards">${p.bankSandbox}</p>
<form method="post" action="${input.action}">
${input.error ? alertBox({ message: input.error }) : ''}
<div class="actions">
<button type="submit" name="outcome" value="approve"${attr('autofocus', true)}>${p.approve}</button>
<button type="submit" name="outcome" value="fail" class="secondary">${p.fail}</button>
</div>
</form>`;
  return layout({ params, title: p.bankTitle, page: null, languageHref: input.languageHref, body, script: false });
}

/** A page that only informs (no form, no script, nothing sent anywhere). */
/** `refreshSeconds` reloads the page (a meta refresh: the CSP allows no inline script) while it waits for something. */
export function noticePage(lang: Lang, title: string, message: string, status: 'status' | 'alert' = 'status', refreshSeconds?: number): string {
  const t = dictionaries[lang];
  const body = html`<h1>${title}</h1>
<p class="${status === 'alert' ? 'alert' : 'status'}" role="${status}">${message}</p>
<p>${t.closeWindow}</p>`;
  return layout({ params: { lang }, title, page: null, body, script: false, ...(refreshSeconds ? { refreshSeconds } : {}) });
}

export { formatDate };
