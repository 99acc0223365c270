import * as z from 'zod/mini';
import {
  AccessRequest,
  AccessResponse,
  CancelSubscriptionResponse,
  CatalogResponse,
  ContentRequest,
  ContentResponse,
  CreateSubscriptionRequest,
  CreateSubscriptionResponse,
  PaymentIntent,
  PaymentRequest,
  PaymentResponse,
  SubscriptionsResponse,
  ErrorBody,
  MeResponse,
  PurchaseRequest,
  PurchaseResponse,
  StartWalletConnectionResponse,
  WalletConnectionsResponse,
  type AccessGrant,
  type ContentFragment,
  type WalletConnection,
  type Subscription,
} from '../protocol';
import { BackendError, abortError, toBackendError } from './backend-error';
import type { SessionStore } from './session-store';

export type HostedPage = 'sign-in' | 'sign-up' | 'top-up';

export interface BackendClientOptions {
  baseUrl: string;
  session: SessionStore;
  fetch?: typeof fetch;
  /** The reader's language (BCP 47); hosted pages get its primary subtag as `lang`. */
  locale?: () => string;
}

interface RequestOptions<T> {
  method?: 'GET' | 'POST' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal | undefined;
  /** Parses a JSON answer; without it the answer is read as text. */
  schema?: z.ZodMiniType<T>;
  /** Send this token instead of the session's (sign-out sends the one it is ending). */
  token?: string | null;
}

/** The page's language, as the document declares it. */
export function documentLocale(): string {
  return (typeof document !== 'undefined' && document.documentElement.lang) || (typeof navigator !== 'undefined' && navigator.language) || 'en';
}

/**
 * Resolves a backend attribute (absolute, or relative to the page) to a base URL without a
 * trailing slash; a configuration_error for anything that is not http(s).
 */
export function resolveBaseUrl(backend: string): URL {
  let url: URL;
  try {
    url = new URL(backend, typeof location !== 'undefined' ? location.href : undefined);
  } catch (error) {
    throw new BackendError('configuration_error', `The backend "${backend}" is not a valid URL.`, { cause: error });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new BackendError('configuration_error', `The backend "${backend}" must be an http(s) URL.`);
  url.search = '';
  url.hash = '';
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

/**
 * Speaks the backend contract: every answer is parsed with the `src/protocol` schemas, and every
 * failure (a server error, lost network, an unreadable answer, an abort) is a {@link BackendError}.
 */
export class BackendClient {
  readonly baseUrl: string;
  readonly origin: string;
  readonly session: SessionStore;
  readonly #fetch: typeof fetch;
  readonly #locale: () => string;

  constructor(options: BackendClientOptions) {
    const url = resolveBaseUrl(options.baseUrl);
    this.baseUrl = url.href.replace(/\/+$/, '');
    this.origin = url.origin;
    this.session = options.session;
    // Read globalThis.fetch at call time, so a fetch patched after construction (mocks, polyfills) is used.
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#locale = options.locale ?? documentLocale;
  }

  catalog(signal?: AbortSignal): Promise<CatalogResponse> {
    return this.#request('/v1/catalog', { schema: CatalogResponse, signal });
  }

  me(signal?: AbortSignal): Promise<MeResponse> {
    return this.#request('/v1/me', { schema: MeResponse, signal });
  }

  /** Which of `products` (1–200) the reader may read, in one request. */
  /** Which of `products` the reader may read; with `content`, the answer also carries those products' fragments if granted. */
  async access(products: string[], { content, signal }: { content?: string[]; signal?: AbortSignal } = {}): Promise<AccessResponse> {
    const body = z.safeParse(AccessRequest, content?.length ? { products, content } : { products });
    if (!body.success) throw new BackendError('configuration_error', `Cannot check access to ${JSON.stringify(products)}: ${z.prettifyError(body.error)}`);
    return this.#request('/v1/access', { method: 'POST', body: body.data, schema: AccessResponse, signal });
  }

  purchase(request: PurchaseRequest, signal?: AbortSignal): Promise<PurchaseResponse> {
    const body = z.safeParse(PurchaseRequest, request);
    if (!body.success) return Promise.reject(new BackendError('configuration_error', `Cannot buy this: ${z.prettifyError(body.error)}`));
    return this.#request('/v1/purchases', { method: 'POST', body: body.data, schema: PurchaseResponse, signal });
  }

  /** The reader's subscriptions, newest first. */
  async subscriptions(signal?: AbortSignal): Promise<Subscription[]> {
    const { subscriptions } = await this.#request('/v1/subscriptions', { schema: SubscriptionsResponse, signal });
    return subscriptions;
  }

  /** Starts a subscription: the wallet is charged at once; a card answers with the hosted `checkoutUrl`. */
  createSubscription(request: CreateSubscriptionRequest, signal?: AbortSignal): Promise<CreateSubscriptionResponse> {
    const body = z.safeParse(CreateSubscriptionRequest, request);
    if (!body.success) return Promise.reject(new BackendError('configuration_error', `Cannot subscribe: ${z.prettifyError(body.error)}`));
    return this.#request('/v1/subscriptions', { method: 'POST', body: body.data, schema: CreateSubscriptionResponse, signal });
  }

  /** Cancels at the end of the paid period; answers the updated subscription. */
  async cancelSubscription(id: string, signal?: AbortSignal): Promise<Subscription> {
    const { subscription } = await this.#request(`/v1/subscriptions/${encodeURIComponent(id)}`, { method: 'DELETE', schema: CancelSubscriptionResponse, signal });
    return subscription;
  }

  /** A one-off card purchase: the hosted `checkoutUrl`, or `granted` when the reader already holds access. */
  payment(request: PaymentRequest, signal?: AbortSignal): Promise<PaymentResponse> {
    const body = z.safeParse(PaymentRequest, request);
    if (!body.success) return Promise.reject(new BackendError('configuration_error', `Cannot pay for this: ${z.prettifyError(body.error)}`));
    return this.#request('/v1/payments', { method: 'POST', body: body.data, schema: PaymentResponse, signal });
  }

  /** A card payment and its 3-D Secure state. */
  paymentIntent(id: string, signal?: AbortSignal): Promise<PaymentIntent> {
    return this.#request(`/v1/payment-intents/${encodeURIComponent(id)}`, { schema: PaymentIntent, signal });
  }

  /** Completes a one-off payment after 3-D Secure; the server charges once however often it is sent. */
  confirmPaymentIntent(id: string, signal?: AbortSignal): Promise<PaymentIntent> {
    return this.#request(`/v1/payment-intents/${encodeURIComponent(id)}/confirm`, { method: 'POST', schema: PaymentIntent, signal });
  }

  /**
   * A checkout or 3-D Secure page URL the server sent, with the reader's `lang`. Anything that is
   * not such a page of this backend is refused, so an answer can never send a window elsewhere.
   */
  paymentPageUrl(url: string): string {
    return this.#hostedPage(url, /\/hosted\/(checkout|3ds)$/);
  }

  /** The reader's wallet connections (one per wallet provider the backend offers). */
  async walletConnections(signal?: AbortSignal): Promise<WalletConnection[]> {
    const { connections } = await this.#request('/v1/wallet-connections', { schema: WalletConnectionsResponse, signal });
    return connections;
  }

  /** The backend page that connects `provider` in the hosted window (it sends the window on to the provider). */
  async walletConnectUrl(provider: string, signal?: AbortSignal): Promise<string> {
    const { authorizeUrl } = await this.#request(`/v1/wallet-connections/${encodeURIComponent(provider)}`, { method: 'POST', schema: StartWalletConnectionResponse, signal });
    return this.#hostedPage(authorizeUrl, /\/hosted\/[a-z]+\/connect$/);
  }

  /** A hosted page the server sent, with the reader's `lang`; refused unless it is a page of this backend whose path matches `path`. */
  #hostedPage(url: string, path: RegExp): string {
    let target: URL;
    try {
      target = new URL(url, this.baseUrl + '/');
    } catch (error) {
      throw new BackendError('invalid_response', 'The payment service sent an unreadable payment page address.', { cause: error });
    }
    if (target.origin !== this.origin || !path.test(target.pathname)) {
      throw new BackendError('invalid_response', `The payment service sent a payment page outside ${this.origin}/hosted/.`);
    }
    const lang = this.#locale().split(/[-_]/)[0]?.toLowerCase();
    if (lang && !target.searchParams.has('lang')) target.searchParams.set('lang', lang);
    return target.href;
  }

  /** The paid HTML fragment of `product` (only with access; 402 `access_required` otherwise). */
  content(product: string, signal?: AbortSignal): Promise<string> {
    return this.#request(`/v1/content/${encodeURIComponent(product)}`, { signal });
  }

  /** The paid fragments of `products` (1–200) the reader may read, in one request (402 `access_required` for none). */
  async contents(products: string[], signal?: AbortSignal): Promise<ContentFragment[]> {
    const body = z.safeParse(ContentRequest, { products });
    if (!body.success) throw new BackendError('configuration_error', `Cannot load the content of ${JSON.stringify(products)}: ${z.prettifyError(body.error)}`);
    const { content } = await this.#request('/v1/content', { method: 'POST', body: body.data, schema: ContentResponse, signal });
    return content;
  }

  /**
   * A paid HTML fragment from `src` (absolute, or relative to the base URL), sent with the
   * session. Only URLs of this backend's origin: the bearer token never leaves for another server.
   */
  fragment(src: string, signal?: AbortSignal): Promise<string> {
    let url: URL;
    try {
      url = new URL(src, this.baseUrl + '/');
    } catch (error) {
      return Promise.reject(new BackendError('configuration_error', `"${src}" is not a valid URL.`, { cause: error }));
    }
    if (url.origin !== this.origin) return Promise.reject(new BackendError('configuration_error', `Paid content loads only from the backend (${this.origin}), not from ${url.origin}.`));
    return this.#request(url.href, { signal });
  }

  /** Ends the session on the server; the local session is cleared whatever the server answers. */
  async signOut(signal?: AbortSignal): Promise<void> {
    const token = this.session.token;
    if (!token) return;
    try {
      await this.#request('/v1/sessions/current', { method: 'DELETE', signal, token });
    } finally {
      if (this.session.token === token) this.session.clear();
    }
  }

  /** A hosted page of this backend, carrying the page's `origin` (for postMessage) and `lang`. */
  hostedUrl(page: HostedPage, params: Record<string, string> = {}): string {
    return this.withHostedParams(`${this.baseUrl}/hosted/${page}`, params);
  }

  /**
   * Adds `origin`, `lang` and `params` to a hosted page URL the server sent (`signInUrl`,
   * `topUpUrl`). Anything that is not a page of this backend is replaced by `fallback`, so a
   * response can never send the reader's window elsewhere.
   */
  withHostedParams(url: string, params: Record<string, string> = {}, fallback: HostedPage = 'sign-in'): string {
    let target: URL;
    try {
      target = new URL(url, this.baseUrl + '/');
    } catch {
      return this.hostedUrl(fallback, params);
    }
    if (target.origin !== this.origin || !/\/hosted\/(sign-in|sign-up|top-up)$/.test(target.pathname)) return this.hostedUrl(fallback, params);
    if (typeof location !== 'undefined' && /^https?:$/.test(location.protocol)) target.searchParams.set('origin', location.origin);
    const lang = this.#locale().split(/[-_]/)[0]?.toLowerCase();
    if (lang) target.searchParams.set('lang', lang);
    for (const [key, value] of Object.entries(params)) target.searchParams.set(key, value);
    return target.href;
  }

  async #request<T = string>(path: string, options: RequestOptions<T>): Promise<T> {
    const { method = 'GET', body, signal, schema } = options;
    if (signal?.aborted) throw abortError(signal);
    const token = options.token !== undefined ? options.token : this.session.token;
    const headers: Record<string, string> = { Accept: schema ? 'application/json' : 'text/html, application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;

    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(/^https?:/.test(path) ? path : `${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: signal ?? null,
        credentials: 'omit',
        cache: 'no-store',
      });
      text = await response.text();
    } catch (error) {
      throw toBackendError(error, signal);
    }

    if (!response.ok) {
      const error = this.#errorFrom(response.status, text);
      // A rejected token is over; elements return to signed-out. A newer token set meanwhile stays.
      if (response.status === 401 && token && this.session.token === token) this.session.clear();
      throw error;
    }
    if (!schema) return text as T;
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch (error) {
      throw new BackendError('invalid_response', `The payment service sent an unreadable answer to ${method} ${path}.`, { status: response.status, cause: error });
    }
    const parsed = z.safeParse(schema, json);
    if (!parsed.success) {
      throw new BackendError('invalid_response', `The payment service sent an unexpected answer to ${method} ${path}: ${z.prettifyError(parsed.error)}`, { status: response.status, cause: parsed.error });
    }
    return parsed.data;
  }

  #errorFrom(status: number, text: string): BackendError {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = z.safeParse(ErrorBody, json);
    if (!parsed.success) return new BackendError('invalid_response', `The payment service answered ${status} without a readable error.`, { status });
    const { code, message, signInUrl, topUpUrl, missing, cancelUrl } = parsed.data.error;
    return new BackendError(code, message, { status, signInUrl, topUpUrl, missing, cancelUrl });
  }
}
