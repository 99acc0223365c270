import { http, HttpResponse } from 'msw';
import { BACKEND, type FakeBackend, worker } from './mock-backend';

const error = (status: number, code: string, extras: Record<string, unknown> = {}) =>
  HttpResponse.json({ error: { code, message: `${code} (mock)`, ...extras } }, { status });

export const PLANS = [
  { id: 'gold-monthly', title: 'Gold monthly', price: 499, currency: 'EUR', periodLength: 1, periodUnit: 'month', products: ['report-2026'], methods: ['wallet', 'card'] },
  { id: 'gold-yearly', title: 'Gold yearly', price: 4900, currency: 'EUR', periodLength: 1, periodUnit: 'year', products: ['report-2026'], trialDays: 14, methods: ['wallet', 'card'] },
];

export const iso = (ms: number) => new Date(ms).toISOString();

/** A subscription as the server answers it. */
export function subscription(overrides: Record<string, unknown> = {}): any {
  const now = Date.now();
  return {
    id: 'sub_1', plan: 'gold-monthly', title: 'Gold monthly', status: 'active', method: 'wallet', card: null,
    price: 499, currency: 'EUR', periodLength: 1, periodUnit: 'month',
    currentPeriodStart: iso(now), currentPeriodEnd: '2031-03-01T00:00:00.000Z', trialEndsAt: null,
    nextBillingAt: '2031-03-01T00:00:00.000Z', cancelAtPeriodEnd: false, canceledAt: null, endedAt: null,
    createdAt: iso(now), pendingAction: null,
    ...overrides,
  };
}

/** A payment intent as the server answers it. */
export function intent(overrides: Record<string, unknown> = {}): any {
  const now = Date.now();
  return {
    id: 'pi_1', status: 'requires_action', kind: 'payment', amount: 299, currency: 'EUR',
    redirectToUrl: `${BACKEND}/hosted/3ds?intent=pi_1&sig=s`, product: 'report-2026', plan: null, subscription: null,
    entitlement: null, card: { brand: 'Visa', last4: '3184' }, failure: null,
    expiresAt: iso(now + 3_600_000), createdAt: iso(now),
    ...overrides,
  };
}

export const VEROTEL_CANCEL_URL = 'https://secure.verotel.com/cancel-subscription?saleID=433456&shopID=12345&version=4&signature=abc';

/**
 * Plans, subscriptions, card payments and payment intents beside a FakeBackend (whose tokens,
 * grants and request log it shares), answering like the reference server.
 */
export class FakePayments {
  plans: any[] = PLANS.map((p) => ({ ...p }));
  subscriptions: any[] = [];
  intents = new Map<string, any>();
  /** What a confirm of an intent in `requires_confirmation` turns it into. */
  confirmOutcome: 'succeeded' | 'failed' = 'succeeded';
  #next = 1;

  constructor(readonly backend: FakeBackend) {
    worker.use(...this.handlers());
  }

  handlers() {
    const record = async (request: Request) => {
      const url = new URL(request.url);
      const text = request.method === 'GET' || request.method === 'DELETE' ? '' : await request.clone().text();
      const authorization = request.headers.get('authorization');
      this.backend.requests.push({ method: request.method, path: url.pathname, authorization, body: text ? JSON.parse(text) : undefined });
      const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1] ?? null;
      return { body: text ? JSON.parse(text) : undefined, token, ok: token !== null && this.backend.tokens.has(token), bad: token !== null && !this.backend.tokens.has(token) };
    };
    return [
      http.get(`${BACKEND}/v1/catalog`, async ({ request }) => {
        await record(request);
        return HttpResponse.json({ products: [], plans: this.plans });
      }),
      http.get(`${BACKEND}/v1/subscriptions`, async ({ request }) => {
        const { ok } = await record(request);
        if (!ok) return error(401, 'unauthenticated');
        return HttpResponse.json({ subscriptions: this.subscriptions });
      }),
      http.post(`${BACKEND}/v1/subscriptions`, async ({ request }) => {
        const { body, token, bad } = await record(request);
        if (!token) return error(401, 'sign_in_required', { signInUrl: `${BACKEND}/hosted/sign-in` });
        if (bad) return error(401, 'unauthenticated');
        const plan = this.plans.find((p) => p.id === body.plan);
        if (!plan) return error(404, 'unknown_plan');
        if (body.method === 'card') {
          return HttpResponse.json({ status: 'requires_payment_method', checkoutUrl: `${BACKEND}/hosted/checkout?checkout=co_${this.#next++}`, expiresAt: iso(Date.now() + 3_600_000) });
        }
        const created = subscription({ id: `sub_${this.#next++}`, plan: plan.id, title: plan.title, price: plan.price, method: 'wallet' });
        this.subscriptions.unshift(created);
        return HttpResponse.json({ status: 'active', subscription: created });
      }),
      http.delete(`${BACKEND}/v1/subscriptions/:id`, async ({ request, params }) => {
        const { ok } = await record(request);
        if (!ok) return error(401, 'unauthenticated');
        const found = this.subscriptions.find((s) => s.id === params.id);
        if (!found) return error(404, 'subscription_not_found');
        // Like the reference server for a FlexPay subscription: only the buyer cancels, on Verotel's page.
        if (found.provider === 'verotel') return error(409, 'cancel_at_provider', { cancelUrl: VEROTEL_CANCEL_URL });
        Object.assign(found, { status: 'canceled', cancelAtPeriodEnd: true, canceledAt: iso(Date.now()), nextBillingAt: null });
        return HttpResponse.json({ subscription: found });
      }),
      http.post(`${BACKEND}/v1/payments`, async ({ request }) => {
        const { token, bad } = await record(request);
        if (!token) return error(401, 'sign_in_required', { signInUrl: `${BACKEND}/hosted/sign-in` });
        if (bad) return error(401, 'unauthenticated');
        return HttpResponse.json({ status: 'requires_payment_method', checkoutUrl: `${BACKEND}/hosted/checkout?checkout=co_${this.#next++}`, expiresAt: iso(Date.now() + 3_600_000) });
      }),
      http.get(`${BACKEND}/v1/payment-intents/:id`, async ({ request, params }) => {
        const { ok } = await record(request);
        if (!ok) return error(401, 'unauthenticated');
        const found = this.intents.get(String(params.id));
        return found ? HttpResponse.json(found) : error(404, 'intent_not_found');
      }),
      http.post(`${BACKEND}/v1/payment-intents/:id/confirm`, async ({ request, params }) => {
        const { ok } = await record(request);
        if (!ok) return error(401, 'unauthenticated');
        const found = this.intents.get(String(params.id));
        if (!found) return error(404, 'intent_not_found');
        if (found.kind === 'payment' && found.status === 'requires_confirmation') {
          if (this.confirmOutcome === 'succeeded') {
            const expiresAt = iso(Date.now() + 86_400_000);
            Object.assign(found, { status: 'succeeded', redirectToUrl: null, entitlement: { product: found.product, expiresAt } });
            this.backend.grants.set(found.product, expiresAt);
          } else {
            Object.assign(found, { status: 'failed', redirectToUrl: null, failure: { code: 'card_declined', message: 'Declined (mock)' } });
          }
        }
        if (found.status === 'requires_action') return error(402, 'authentication_required');
        if (found.status === 'failed') return error(402, 'authentication_failed');
        if (found.status === 'canceled') return error(410, 'intent_expired');
        return HttpResponse.json(found);
      }),
    ];
  }
}
