import * as z from 'zod/mini';
import { isKnownBrand } from './verotel/brands';

/** Name of an environment variable that holds a secret; the secret itself never sits in the config file. */
export const EnvName = z.string().check(z.regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name such as VEROTEL_SIGNATURE_KEY'));

/** An http(s) URL without a trailing slash; overrides a provider's real address (local fakes, staging). */
const BaseUrl = z.string().check(z.refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && !value.endsWith('/');
  } catch {
    return false;
  }
}, 'must be an http(s) URL without a trailing slash'));

export const VerotelConfig = z.strictObject({
  /** The 16-digit merchant (customer) id: its first four digits choose the brand's base URL. */
  merchantId: z.string().check(z.regex(/^\d{16}$/, 'must be the 16-digit Verotel merchant id'), z.refine(isKnownBrand, 'must start with the 4 digits of a FlexPay brand (9804 Verotel, 9762, 9653, 9511, 9444, 9388, 9001)')),
  /** The website id ("shopID") in Control Center. */
  shopId: z.string().check(z.regex(/^\d{1,12}$/, 'must be the numeric Verotel shop id')),
  signatureKeyEnv: z._default(EnvName, 'VEROTEL_SIGNATURE_KEY'),
  /** Cross-check every approved sale with `/salestatus` before granting access. */
  verifyStatus: z._default(z.boolean(), true),
  baseUrl: z.optional(BaseUrl),
});

export const PaymentwallConfig = z.strictObject({
  /** The project key (public: it is in every widget URL). */
  projectKey: z.string().check(z.minLength(8)),
  secretKeyEnv: z._default(EnvName, 'PAYMENTWALL_SECRET_KEY'),
  widget: z._default(z.string().check(z.regex(/^[a-z0-9_]{1,32}$/i)), 'pw'),
  signVersion: z._default(z.union([z.literal(2), z.literal(3)]), 3),
  /** Payment system shortcode; "all" lets the reader choose on Paymentwall's page. */
  ps: z._default(z.string().check(z.regex(/^[a-z0-9_]{1,32}$/)), 'all'),
  /** Addresses pingbacks may come from: IPv4 addresses or CIDR ranges. Defaults to Paymentwall's list. */
  ipAllowlist: z.optional(z.array(z.string().check(z.regex(/^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/, 'must be an IPv4 address or CIDR range'))).check(z.minLength(1))),
  /** The same as the top-level `trustProxy` (the larger of the two counts); kept for configs written before it. */
  trustProxy: z.optional(z.union([z.boolean(), z.int().check(z.minimum(0), z.maximum(8))])),
  /** Replaces `https://api.paymentwall.com/api` (the widget is at `<widgetBaseUrl>/subscription`). */
  widgetBaseUrl: z.optional(BaseUrl),
  /** Replaces `https://api.paymentwall.com` (delivery and ticket APIs). */
  apiBaseUrl: z.optional(BaseUrl),
  /** Report each delivered payment to the Delivery Confirmation API. */
  deliveryConfirmation: z._default(z.boolean(), true),
  /** Tries per delivery status; the wait after a failure starts at `deliveryRetryMs` and doubles. */
  deliveryAttempts: z._default(z.int().check(z.positive(), z.lte(20)), 6),
  deliveryRetryMs: z._default(z.int().check(z.positive(), z.lte(3_600_000)), 30_000),
});

export const MilkipayConfig = z.strictObject({
  clientId: z.string().check(z.minLength(1)),
  clientTokenEnv: z._default(EnvName, 'MILKIPAY_CLIENT_TOKEN'),
  /** Where the reader authorizes the wallet connection (OAUTH_URL). */
  oauthUrl: BaseUrl,
  /** The server-to-server API (BASE_URL). */
  baseUrl: BaseUrl,
});

export const ProvidersConfig = z.strictObject({
  verotel: z.optional(VerotelConfig),
  paymentwall: z.optional(PaymentwallConfig),
  milkipay: z.optional(MilkipayConfig),
});

/** Providers that take a card (or the reader's choice of method) on their own hosted page. */
export const CheckoutProviderName = z.enum(['sandbox', 'verotel', 'paymentwall']);
export type CheckoutProviderName = z.infer<typeof CheckoutProviderName>;
