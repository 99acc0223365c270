import assert from 'node:assert/strict';
import { sql } from 'kysely';
import * as z from 'zod/mini';
import { Notification } from '../../src/protocol';
import type { TestServer } from './harness';

/** Helpers for the card, checkout and 3-D Secure suites: hosted pages filled in over HTTP, as a browser would. */

export const CARDS = {
  plain: '4242424242424242',
  scaAlways: '4000002760003184',
  scaFirst: '4000002500003155',
  declineRenewals: '4000000000000341',
  declined: '4000000000000002',
  poor: '4000000000009995',
} as const;

export interface Page {
  status: number;
  text: string;
  headers: Headers;
  /** Where a 3xx points, as a path with its query. */
  location: string | null;
}

const entities: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
export const unescape = (text: string) => text.replace(/&(amp|lt|gt|quot|#39);/g, (entity) => entities[entity]!);

export async function hostedGet(server: TestServer, url: string, headers: Record<string, string> = {}): Promise<Page> {
  const response = await fetch(new URL(url, server.url), { headers, redirect: 'manual' });
  return toPage(server, response);
}

export async function hostedPost(server: TestServer, url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Page> {
  const response = await fetch(new URL(url, server.url), {
    method: 'POST', redirect: 'manual', body: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });
  return toPage(server, response);
}

async function toPage(server: TestServer, response: Response): Promise<Page> {
  const location = response.headers.get('location');
  const resolved = location ? new URL(location, server.url) : null;
  return { status: response.status, text: await response.text(), headers: response.headers, location: resolved ? resolved.pathname + resolved.search : null };
}

/** The completion message a page carries for complete.js, or null when it carries none. */
export function completion(text: string): { message: any; targetOrigin: string | undefined; returnUrl: string | undefined } | null {
  const main = /<main\b[^>]*>/.exec(text)?.[0] ?? '';
  const message = /data-message="([^"]*)"/.exec(main)?.[1];
  if (message === undefined) return null;
  const targetOrigin = /data-target-origin="([^"]*)"/.exec(main)?.[1];
  const returnUrl = /data-return-url="([^"]*)"/.exec(main)?.[1];
  return { message: JSON.parse(unescape(message)), targetOrigin: targetOrigin && unescape(targetOrigin), returnUrl: returnUrl && unescape(returnUrl) };
}

export const alertText = (text: string) => /<[a-z]+ [^>]*role="alert"[^>]*>([^<]*)</.exec(text)?.[1];

export const cardFields = (number: string, extra: Record<string, string> = {}) => ({ cardNumber: number, expMonth: '12', expYear: '2030', cvc: '123', ...extra });

/** Opens a checkout link (from the API) as the hosted window does: it goes on (303) to the sandbox's card form. */
export async function openCheckout(server: TestServer, checkoutUrl: string, lang?: string): Promise<Page> {
  const url = new URL(checkoutUrl);
  if (lang) url.searchParams.set('lang', lang);
  const link = await hostedGet(server, url.pathname + url.search);
  assert.equal(link.status, 303, link.text);
  assert.equal(new URL(link.location!, server.url).pathname, '/hosted/sandbox/card');
  return hostedGet(server, link.location!);
}

/** Opens a checkout link (from the API) and pays it with `number`; the page that follows (or the 303 to the bank page). */
export async function payCheckout(server: TestServer, checkoutUrl: string, number: string, lang?: string): Promise<Page> {
  const form = await openCheckout(server, checkoutUrl, lang);
  assert.equal(form.status, 200, form.text);
  const action = unescape(/<form method="post" action="([^"]*)"/.exec(form.text)?.[1] ?? '');
  assert.ok(action, 'the checkout page has a form');
  return hostedPost(server, action, cardFields(number));
}

/** Answers the sandbox bank's 3-D Secure page at `url` (a path or the absolute redirect_to_url). */
export async function answerBank(server: TestServer, url: string, outcome: 'approve' | 'fail'): Promise<Page> {
  const page = await hostedGet(server, url);
  assert.equal(page.status, 200, page.text);
  assert.match(page.text, /value="approve"/);
  const action = unescape(/<form method="post" action="([^"]*)"/.exec(page.text)?.[1] ?? '');
  return hostedPost(server, action, { outcome });
}

/** Everything notified to a customer so far, parsed with the contract schema. */
export async function notifications(server: TestServer, customerId: string): Promise<Notification[]> {
  const list = await server.services.notifications.listAfter(customerId, 0);
  return list.map((n) => z.parse(Notification, n));
}

export const types = (list: Notification[]) => list.map((n) => n.type);

export async function balance(server: TestServer, token: string): Promise<number> {
  return (await server.api('/v1/me', { token })).body.wallet.balance;
}

export async function outbox(server: TestServer, token: string): Promise<Array<{ kind: string; subject: string; text: string; link: string | null; to: string }>> {
  const { status, body } = await server.api('/v1/sandbox/outbox', { token });
  assert.equal(status, 200);
  return body.emails;
}

export async function subscriptionsOf(server: TestServer, token: string): Promise<any[]> {
  const { status, body } = await server.api('/v1/subscriptions', { token });
  assert.equal(status, 200);
  return body.subscriptions;
}

export async function access(server: TestServer, token: string, products: string[]): Promise<Record<string, string | null>> {
  const { body } = await server.api('/v1/access', { token, body: { products } });
  return Object.fromEntries(body.access.map((a: any) => [a.product, a.granted ? a.expiresAt : null]));
}

/** Billing charges of a subscription, in order. */
export async function charges(server: TestServer, subscriptionId: string) {
  const rows = await server.database.db.selectFrom('billing_charges').selectAll().where('subscription_id', '=', subscriptionId).orderBy('period').orderBy('attempt').execute();
  return rows.map((r) => ({ period: Number(r.period), attempt: Number(r.attempt), status: r.status, dueAt: new Date(Number(r.due_at)).toISOString(), failureCode: r.failure_code }));
}

/** Ledger transactions of a kind for a customer (every charge books exactly one). */
export async function ledgerCount(server: TestServer, customerId: string, kind: 'subscription' | 'card_payment'): Promise<number> {
  const row = await server.database.db.selectFrom('ledger_transactions').select(sql<number>`count(*)`.as('n')).where('customer_id', '=', customerId).where('kind', '=', kind).executeTakeFirstOrThrow();
  return Number(row.n);
}
