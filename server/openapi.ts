import * as z from 'zod/mini';
import {
  AccessRequest, AccessResponse, CancelSubscriptionResponse, ContentRequest, ContentResponse, CatalogResponse, CreateSubscriptionRequest, CreateSubscriptionResponse, Credentials, ErrorBody,
  MeResponse, Notification, PaymentIntent, PaymentRequest, PaymentResponse, PurchaseRequest, PurchaseResponse, SandboxOutboxResponse, SessionResponse,
  StartWalletConnectionResponse, SubscriptionsResponse, TopUpRequest, TopUpResponse, WalletConnectionsResponse,
} from '../src/protocol';
import { PayoutRequest, PayoutResponse } from './providers/milkipay/payout-request';

interface Operation {
  method: 'get' | 'post' | 'delete';
  path: string;
  summary: string;
  /** `admin`: the merchant's admin API key, from servers only (never a browser). */
  auth: 'none' | 'optional' | 'required' | 'admin';
  body?: z.ZodMiniType;
  success: { status: number; schema?: z.ZodMiniType; contentType?: string };
  errors: number[];
}

/** Every endpoint of the contract, described with the same schemas the routes validate with. */
export const operations: Operation[] = [
  { method: 'get', path: '/v1/catalog', summary: 'Products and plans for sale', auth: 'none', success: { status: 200, schema: CatalogResponse }, errors: [] },
  { method: 'post', path: '/v1/accounts', summary: 'Create an account (start credit included) and sign in', auth: 'none', body: Credentials, success: { status: 201, schema: SessionResponse }, errors: [400, 409, 413, 415] },
  { method: 'post', path: '/v1/sessions', summary: 'Sign in', auth: 'none', body: Credentials, success: { status: 200, schema: SessionResponse }, errors: [400, 401, 423] },
  { method: 'delete', path: '/v1/sessions/current', summary: 'Sign out', auth: 'required', success: { status: 204 }, errors: [401] },
  { method: 'get', path: '/v1/me', summary: 'The signed-in customer and wallet', auth: 'required', success: { status: 200, schema: MeResponse }, errors: [401] },
  { method: 'post', path: '/v1/access', summary: 'Check access to up to 200 products at once; with content, the answer also brings the paid fragments of those granted', auth: 'optional', body: AccessRequest, success: { status: 200, schema: AccessResponse }, errors: [400, 401] },
  { method: 'post', path: '/v1/purchases', summary: 'Buy a product or signed offer from the wallet (idempotent)', auth: 'optional', body: PurchaseRequest, success: { status: 200, schema: PurchaseResponse }, errors: [400, 401, 402, 404, 409] },
  { method: 'post', path: '/v1/content', summary: 'The paid HTML fragments of up to 200 products at once: only those the caller may read', auth: 'optional', body: ContentRequest, success: { status: 200, schema: ContentResponse }, errors: [400, 402, 404] },
  { method: 'get', path: '/v1/content/{product}', summary: 'The paid HTML fragment of a product', auth: 'optional', success: { status: 200, contentType: 'text/html' }, errors: [400, 402, 404] },
  { method: 'post', path: '/v1/top-ups', summary: 'Top up the wallet with a card (hosted pages only)', auth: 'required', body: TopUpRequest, success: { status: 200, schema: TopUpResponse }, errors: [400, 401, 402, 403, 409] },
  { method: 'get', path: '/v1/subscriptions', summary: "The signed-in reader's subscriptions, newest first", auth: 'required', success: { status: 200, schema: SubscriptionsResponse }, errors: [401] },
  { method: 'post', path: '/v1/subscriptions', summary: 'Subscribe to a plan: the wallet is charged at once; a card answers with the hosted checkout URL (idempotent)', auth: 'optional', body: CreateSubscriptionRequest, success: { status: 200, schema: CreateSubscriptionResponse }, errors: [400, 401, 402, 404, 409] },
  { method: 'delete', path: '/v1/subscriptions/{id}', summary: 'Cancel at the end of the paid period (access lasts until then); 409 cancel_at_provider with cancelUrl when only the provider\'s page can cancel it', auth: 'required', success: { status: 200, schema: CancelSubscriptionResponse }, errors: [401, 404, 409] },
  { method: 'post', path: '/v1/payments', summary: 'Buy a product or signed offer by card: answers with the hosted checkout URL (idempotent)', auth: 'optional', body: PaymentRequest, success: { status: 200, schema: PaymentResponse }, errors: [400, 401, 404, 409] },
  { method: 'get', path: '/v1/payment-intents/{id}', summary: 'A card payment and its 3-D Secure state (for polling while the socket is down)', auth: 'required', success: { status: 200, schema: PaymentIntent }, errors: [401, 404] },
  { method: 'post', path: '/v1/payment-intents/{id}/confirm', summary: 'Complete a one-off card payment after 3-D Secure (?payment_intent=…); confirming twice charges once', auth: 'required', success: { status: 200, schema: PaymentIntent }, errors: [401, 402, 404, 410] },
  { method: 'get', path: '/v1/wallet-connections', summary: "The signed-in reader's wallet connections (Milkipay): connected, not_connected or error with its code", auth: 'required', success: { status: 200, schema: WalletConnectionsResponse }, errors: [401] },
  { method: 'post', path: '/v1/wallet-connections/{provider}', summary: 'A short-lived backend link that connects a wallet in the hosted window', auth: 'required', success: { status: 200, schema: StartWalletConnectionResponse }, errors: [401, 404] },
  { method: 'post', path: '/v1/admin/payouts', summary: "Merchant servers only: pay out to a reader's connected Milkipay wallet (idempotent on transactionId; refusals carry providerCode)", auth: 'admin', body: PayoutRequest, success: { status: 200, schema: PayoutResponse }, errors: [402, 403, 404, 409, 422, 423, 502, 503] },
  { method: 'get', path: '/v1/sandbox/outbox', summary: 'Sandbox only: the emails sent to the signed-in reader (404 when the sandbox provider is off)', auth: 'required', success: { status: 200, schema: SandboxOutboxResponse }, errors: [401, 404] },
];

const pathParameters = (path: string) => [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);

const jsonSchema = (schema: z.ZodMiniType) => z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' });

export function buildOpenApi(serverUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const responses: Record<string, unknown> = {
      [op.success.status]: {
        description: op.summary,
        ...(op.success.schema ? { content: { 'application/json': { schema: jsonSchema(op.success.schema) } } } : {}),
        ...(op.success.contentType ? { content: { [op.success.contentType]: { schema: { type: 'string' } } } } : {}),
      },
    };
    // Every body can be malformed, too large or of the wrong type, and a stale bearer token is a 401 wherever one is read.
    const errors = new Set([...op.errors, ...(op.body ? [400, 413, 415] : []), ...(op.auth === 'none' ? [] : [401])]);
    for (const status of [...errors].sort((a, b) => a - b)) responses[status] = { $ref: '#/components/responses/Error' };
    (paths[op.path] ??= {})[op.method] = {
      summary: op.summary,
      operationId: `${op.method}${op.path.replace(/[^A-Za-z]+(\w)/g, (_, ch: string) => ch.toUpperCase())}`,
      ...(op.auth === 'required' ? { security: [{ bearer: [] }] } : op.auth === 'optional' ? { security: [{}, { bearer: [] }] } : op.auth === 'admin' ? { security: [{ adminApiKey: [] }] } : {}),
      ...(pathParameters(op.path).length ? { parameters: pathParameters(op.path).map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })) } : {}),
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.body) } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'paywall-kit backend', version: '1.0.0', description: 'The contract between the paywall-kit elements and a backend. Amounts are integer minor units with an ISO 4217 currency.' },
    servers: [{ url: serverUrl }],
    paths,
    webhooks: {
      notification: {
        post: {
          summary: 'Messages on the WebSocket /v1/notifications (?token=…&after=<id>&batch=1; with batch=1 the backlog comes as arrays of these); closes with 4401 on a bad token',
          requestBody: { content: { 'application/json': { schema: jsonSchema(Notification) } } },
          responses: { 200: { description: 'delivered' } },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, adminApiKey: { type: 'http', scheme: 'bearer', description: 'The admin API key (PAYWALL_ADMIN_API_KEY); server to server only' } },
      responses: { Error: { description: 'An error with a machine-readable code', content: { 'application/json': { schema: jsonSchema(ErrorBody) } } } },
    },
  };
}
