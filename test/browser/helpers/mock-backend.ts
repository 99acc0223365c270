import { setupWorker } from 'msw/browser';
import { http, HttpResponse, ws } from 'msw';

/**
 * The mocked backend lives on the test page's own origin: msw answers its /v1 requests, and the
 * hosted windows the kit opens land on pages of the same origin that a test can drive.
 */
export const BACKEND = location.origin;
export const SOCKET_URL = `${BACKEND.replace(/^http/, 'ws')}/v1/notifications`;

export const notificationsLink = ws.link(SOCKET_URL);
/** By default the notification socket connects to a mock that stays silent, never to the dev server. */
export const worker = setupWorker(notificationsLink.addEventListener('connection', () => undefined));

/** Resolves once a service worker controls this page (or after `ms`). */
async function untilClaimed(ms: number): Promise<void> {
  if (navigator.serviceWorker.controller) return;
  await Promise.race([new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true })), sleep(ms)]);
}

/**
 * Starts msw for the file and removes per-test handlers after each test.
 * - msw reloads a page that its registered worker does not control yet (a worker another test page
 *   just installed, about to claim this one), which the runner reports as a reload: wait for the claim.
 * - msw's worker unregisters itself when the last page it controls closes; a page that loaded just
 *   then registers a new one, which controls the page only once it has activated and claimed it,
 *   and until then the page's requests reach the dev server (404): wait for that claim too.
 */
export function useMockServiceWorker() {
  before(async () => {
    if ((await navigator.serviceWorker.getRegistrations()).length) await untilClaimed(3000);
    await worker.start({ serviceWorker: { url: '/mockServiceWorker.js' }, onUnhandledRequest: 'bypass', quiet: true });
    await untilClaimed(5000);
    if (!navigator.serviceWorker.controller) throw new Error('the mock service worker does not control this test page');
  });
  afterEach(() => worker.resetHandlers());
  after(() => worker.stop());
}

export interface SeenRequest {
  method: string;
  path: string;
  authorization: string | null;
  body: any;
}

const error = (status: number, code: string, extras: Record<string, unknown> = {}) =>
  HttpResponse.json({ error: { code, message: `${code} (mock)`, ...extras } }, { status });

/**
 * A small in-memory backend with one customer: tokens, a wallet, prices, entitlements and
 * idempotent purchases, answering like the reference server. `requests` records what was sent.
 */
export class FakeBackend {
  readonly requests: SeenRequest[] = [];
  /**
   * Valid tokens. Give each test file its own: parallel test pages share the BroadcastChannel of
   * the backend origin, and tabs apply each other's grants only for the same session.
   */
  readonly tokens: Set<string>;
  balance = 500;
  currency = 'EUR';
  prices = new Map<string, number>([['article-42', 49], ['article-43', 49], ['expensive', 900]]);
  /** product → expiresAt (ISO) */
  grants = new Map<string, string>();
  validityMs = 3_600_000;
  /** The newest notification id an access answer reports to a signed-in reader. */
  notificationCursor = 0;
  /** Paid HTML by product; `<p>Paid <product></p>` for the others. */
  fragments = new Map<string, string>();
  /** Whether access answers bring the fragments asked for with `content` (false: a backend that ignores it). */
  contentInAccessAnswers = true;
  readonly #purchases = new Map<string, unknown>();

  constructor(...tokens: string[]) {
    this.tokens = new Set(tokens);
    worker.use(...this.handlers());
  }

  fragment(product: string): string {
    return this.fragments.get(product) ?? `<p>Paid ${product}</p>`;
  }

  /** Requests to `path` (e.g. '/v1/purchases'). */
  sent(path: string, method?: string): SeenRequest[] {
    return this.requests.filter((r) => r.path === path && (!method || r.method === method));
  }

  handlers() {
    const record = async (request: Request) => {
      const url = new URL(request.url);
      const text = request.method === 'GET' || request.method === 'DELETE' ? '' : await request.clone().text();
      const seen: SeenRequest = { method: request.method, path: url.pathname, authorization: request.headers.get('authorization'), body: text ? JSON.parse(text) : undefined };
      this.requests.push(seen);
      const token = /^Bearer (.+)$/.exec(seen.authorization ?? '')?.[1] ?? null;
      return { seen, token, bad: token !== null && !this.tokens.has(token) };
    };
    return [
      http.post(`${BACKEND}/v1/access`, async ({ request }) => {
        const { seen, token, bad } = await record(request);
        if (bad) return error(401, 'unauthenticated');
        const products: string[] = seen.body.products;
        if (products.length > 200) return error(400, 'validation_failed');
        const now = Date.now();
        const access = products.map((product) => {
          const until = token ? this.grants.get(product) : undefined;
          const granted = !!until && Date.parse(until) > now;
          return { product, granted, expiresAt: granted ? until! : null };
        });
        const wanted: string[] | undefined = this.contentInAccessAnswers ? seen.body.content : undefined;
        return HttpResponse.json({
          access,
          ...(token && { notificationCursor: this.notificationCursor }),
          ...(wanted && { content: access.filter((a) => a.granted && wanted.includes(a.product)).map(({ product }) => ({ product, html: this.fragment(product) })) }),
        });
      }),
      http.post(`${BACKEND}/v1/purchases`, async ({ request }) => {
        const { seen, token, bad } = await record(request);
        const { product, price, idempotencyKey } = seen.body;
        if (!this.prices.has(product)) return error(404, 'unknown_product');
        if (!token) return error(401, 'sign_in_required', { signInUrl: `${BACKEND}/hosted/sign-in` });
        if (bad) return error(401, 'unauthenticated');
        const previous = this.#purchases.get(idempotencyKey);
        if (previous) return HttpResponse.json(previous);
        const cost = this.prices.get(product)!;
        if (price !== undefined && price !== cost) return error(409, 'price_mismatch');
        const held = this.grants.get(product);
        if (!held || Date.parse(held) <= Date.now()) {
          if (this.balance < cost) {
            const missing = cost - this.balance;
            return error(402, 'insufficient_funds', { missing, topUpUrl: `${BACKEND}/hosted/top-up?amount=${missing}&currency=${this.currency}` });
          }
          this.balance -= cost;
          this.grants.set(product, new Date(Date.now() + this.validityMs).toISOString());
        }
        const response = { status: 'granted', entitlement: { product, expiresAt: this.grants.get(product) }, wallet: { balance: this.balance, currency: this.currency } };
        this.#purchases.set(idempotencyKey, response);
        return HttpResponse.json(response);
      }),
      http.get(`${BACKEND}/v1/me`, async ({ request }) => {
        const { token, bad } = await record(request);
        if (!token || bad) return error(401, 'unauthenticated');
        return HttpResponse.json({ customer: { id: 'cus_1', email: 'reader@example.com', createdAt: '2026-01-01T00:00:00.000Z' }, wallet: { balance: this.balance, currency: this.currency } });
      }),
      http.delete(`${BACKEND}/v1/sessions/current`, async ({ request }) => {
        const { token, bad } = await record(request);
        if (!token || bad) return error(401, 'unauthenticated');
        this.tokens.delete(token);
        return new HttpResponse(null, { status: 204 });
      }),
      http.post(`${BACKEND}/v1/content`, async ({ request }) => {
        const { seen, token, bad } = await record(request);
        if (bad) return error(401, 'unauthenticated');
        const products: string[] = seen.body.products;
        if (!products.length || products.length > 200) return error(400, 'validation_failed');
        const readable = [...new Set(products)].filter((product) => token && Date.parse(this.grants.get(product) ?? '') > Date.now());
        if (!readable.length) return error(402, 'access_required');
        return HttpResponse.json({ content: readable.map((product) => ({ product, html: this.fragment(product) })) });
      }),
      http.get(`${BACKEND}/v1/content/:product`, async ({ request, params }) => {
        const { token, bad } = await record(request);
        if (bad) return error(401, 'unauthenticated');
        const until = token ? this.grants.get(String(params.product)) : undefined;
        if (!until) return error(402, 'access_required');
        return HttpResponse.text(this.fragment(String(params.product)), { headers: { 'Content-Type': 'text/html' } });
      }),
    ];
  }
}

/**
 * Clears what the kit keeps in Web Storage for `origin`. Test files run in parallel pages of one
 * origin and share localStorage, so each file keeps to its own backend origin or to memory sessions.
 */
export function clearStorage(origin = BACKEND) {
  for (const area of [localStorage, sessionStorage]) {
    for (const key of Object.keys(area)) if (key.startsWith('paywall-kit:') && key.endsWith(`:${origin}`)) area.removeItem(key);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `condition` holds (checked every 10 ms), failing after `timeout` ms. */
export async function until(condition: () => unknown, timeout = 3000, what = 'condition'): Promise<void> {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > timeout) throw new Error(`Timed out waiting for ${what}`);
    await sleep(10);
  }
}
