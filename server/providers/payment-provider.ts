import type { Logger } from 'pino';
import type { Clock } from '../clock';
import type { CatalogPlan, ServerConfig } from '../config';
import type { Lang } from '../hosted/i18n';
import type { DatabaseHandle } from '../store/connect';
import type { CheckoutRow, SubscriptionRow } from '../store/schema';
import type { CheckoutProviderName } from './provider-config';
import type { ProviderTokens } from './provider-tokens';

/** Everything a provider needs to send the reader to its hosted page for one checkout. */
/** What an adapter may use: it speaks its provider's protocol and reads, never writes, our books. */
export interface ProviderDeps {
  config: ServerConfig;
  clock: Clock;
  logger: Logger;
  database: DatabaseHandle;
  tokens: ProviderTokens;
}

export interface CheckoutStart {
  checkout: CheckoutRow;
  /** The plan of a subscription checkout. */
  plan: CatalogPlan | null;
  customer: { id: string; email: string };
  /** Backend pages the provider returns the reader to; they report to the opener and close. */
  successUrl: string;
  declineUrl: string;
  lang: Lang;
}

/** A provider's server-to-server callback (postback, pingback) or a signed return to one of our pages, as received. */
export interface ProviderCallback {
  method: string;
  url: URL;
  /** Decoded query parameters, in the order received (a repeated name keeps its last value). */
  params: Map<string, string>;
  body: string | null;
  headers: Headers;
  /** Where the request came from: the socket's peer, or behind the operator's trusted proxies the address the outermost of them saw (`clientAddress`). */
  remoteAddress: string | null;
}

/**
 * What happened at a provider, in our terms. `eventId` is the provider's own identity of the
 * event (the key that makes a replay change nothing); `saleId` names the sale (Verotel saleID,
 * Paymentwall ref of the first payment) that ties later events to what was bought.
 */
export type ProviderEvent =
  | { kind: 'paid'; eventId: string; saleId: string; checkoutId: string; amount: number; currency: string; oneClickToken?: string }
  | { kind: 'subscription.renewed'; eventId: string; saleId: string; amount: number; currency: string }
  | { kind: 'refunded' | 'charged_back'; eventId: string; saleId: string; reason: string }
  | { kind: 'subscription.canceled' | 'subscription.uncanceled' | 'subscription.expired' | 'subscription.failed'; eventId: string; saleId: string; reason: string };

/** A verified callback: the events to apply, and the answer the provider expects once they are applied. */
export interface CallbackVerdict {
  events: ProviderEvent[];
  reply: ProviderReply;
}

export interface ProviderReply {
  status: 200 | 400 | 403 | 500;
  body: string;
}

/** A callback that failed verification (signature, address, required parameters): nothing is applied. */
export class CallbackRejected extends Error {
  constructor(readonly reply: ProviderReply, readonly detail: string) {
    super(detail);
    this.name = 'CallbackRejected';
  }
}

/** What cancelling a subscription at the provider led to. */
export type ProviderCancellation =
  | { kind: 'canceled' }
  /** The provider lets only the buyer cancel, on its own page. */
  | { kind: 'redirect'; url: string };

/**
 * One interface for the sandbox and every payment provider. The adapters only speak the provider's
 * protocol; what a payment means here (ledger, entitlements, subscriptions, notifications) is
 * decided once, in ProviderEventProcessor, for all of them (the sandbox charges in-process instead).
 */
export interface PaymentProvider {
  readonly name: CheckoutProviderName;
  /** The answer to a verified callback whose events could not be applied (unknown sale, wrong amount): the provider retries or refunds. */
  readonly errorReply: ProviderReply;
  /** Callback parameters that are credentials (Verotel's one-click token): kept out of the audit record, which stores the rest as received. */
  readonly secretParams?: readonly string[];
  /** Whether the provider takes payments in `currency`; asked before a checkout is written. */
  accepts(currency: string): boolean;
  /** The URL of the provider's hosted page for this checkout, opened in the hosted window. */
  startCheckout(start: CheckoutStart): Promise<string>;
  /** Verifies a server-to-server callback and says what it means; throws CallbackRejected when it cannot be trusted. */
  handleCallback(callback: ProviderCallback): Promise<CallbackVerdict>;
  /** Verifies the reader's return to our success page, when the provider signs it; null when it carries no provider data. */
  handleReturn?(callback: ProviderCallback): Promise<CallbackVerdict | null>;
  cancelSubscription(subscription: SubscriptionRow): Promise<ProviderCancellation>;
  /** Work after a callback's events were applied (Paymentwall Delivery Confirmation); the route does not wait for it, so it must not throw. */
  afterApplied?(verdict: CallbackVerdict): void;
}
