import * as z from 'zod/mini';
import { PlanId, ProductId } from './ids';
import { Currency, MinorUnits } from './money';
import { Entitlement, IdempotencyKey, OfferToken } from './purchases';

/**
 * Where the hosted pages send the reader back when they were opened without an opener (a popup
 * blocker): an absolute URL on an allowlisted merchant origin, or a path on the backend.
 */
export const ReturnUrl = z.string().check(z.minLength(1), z.maxLength(2048));

/** The card on file, as far as anyone but the card processor may know it. */
export const CardSummary = z.object({
  /** Lower-case brand id (`visa`, `mastercard`, `amex`); the kit shows the brand's own spelling. */
  brand: z.string(),
  last4: z.string().check(z.regex(/^[0-9]{4}$/)),
});
export type CardSummary = z.infer<typeof CardSummary>;

/** Answer when a card is needed: open `checkoutUrl` (the hosted checkout page) in the hosted window. */
export const CheckoutRequired = z.object({
  status: z.literal('requires_payment_method'),
  checkoutUrl: z.string(),
  /** The checkout link works until then; the same idempotency key reopens it. */
  expiresAt: z.iso.datetime(),
});
export type CheckoutRequired = z.infer<typeof CheckoutRequired>;

const paymentFields = {
  /** Display price the reader saw; the server refuses to charge when it differs. */
  price: z.optional(MinorUnits),
  currency: z.optional(Currency),
  returnUrl: z.optional(ReturnUrl),
  idempotencyKey: IdempotencyKey,
};

/** A one-off card purchase of a catalog product or a signed offer. */
export const PaymentRequest = z.union([
  z.strictObject({ product: ProductId, ...paymentFields }),
  z.strictObject({ offer: OfferToken, ...paymentFields }),
]);
export type PaymentRequest = z.infer<typeof PaymentRequest>;

/**
 * A card payment's life: `requires_action` (3-D Secure pending on the hosted bank page),
 * `requires_confirmation` (authenticated; a one-off payment completes with
 * `POST /v1/payment-intents/:id/confirm`), then `succeeded`, `failed` or `canceled` (expired).
 */
export const PaymentIntentStatus = z.enum(['requires_action', 'requires_confirmation', 'succeeded', 'failed', 'canceled']);
export type PaymentIntentStatus = z.infer<typeof PaymentIntentStatus>;

/** `payment`: one-off purchase; `subscription`: first payment of a subscription; `renewal`: an off-session renewal. */
export const PaymentIntentKind = z.enum(['payment', 'subscription', 'renewal']);
export type PaymentIntentKind = z.infer<typeof PaymentIntentKind>;

export const PaymentFailure = z.object({ code: z.string(), message: z.string() });

export const PaymentIntent = z.object({
  id: z.string(),
  status: PaymentIntentStatus,
  kind: PaymentIntentKind,
  amount: MinorUnits,
  currency: Currency,
  /** The hosted 3-D Secure page while authentication is pending, otherwise null. */
  redirectToUrl: z.nullable(z.string()),
  product: z.nullable(ProductId),
  plan: z.nullable(PlanId),
  subscription: z.nullable(z.string()),
  /** The access a succeeded one-off payment bought. */
  entitlement: z.nullable(Entitlement),
  card: z.nullable(CardSummary),
  failure: z.nullable(PaymentFailure),
  expiresAt: z.iso.datetime(),
  createdAt: z.iso.datetime(),
});
export type PaymentIntent = z.infer<typeof PaymentIntent>;

export const PaymentResponse = z.union([
  CheckoutRequired,
  /** Access is granted: paid now, or the reader already held it (then nothing was charged). */
  z.object({ status: z.literal('granted'), entitlement: Entitlement, paymentIntent: z.nullable(PaymentIntent) }),
  /** A replay of a key whose payment is waiting for 3-D Secure, or ended without success. */
  z.object({ status: z.enum(['requires_action', 'requires_confirmation', 'failed', 'canceled']), paymentIntent: PaymentIntent }),
]);
export type PaymentResponse = z.infer<typeof PaymentResponse>;

/** An email the backend sent; in the sandbox they stay in an outbox anyone signed in can read. */
export const OutboxEmail = z.object({
  id: z.int(),
  to: z.string(),
  kind: z.string(),
  subject: z.string(),
  text: z.string(),
  link: z.nullable(z.string()),
  createdAt: z.iso.datetime(),
});
export type OutboxEmail = z.infer<typeof OutboxEmail>;

export const SandboxOutboxResponse = z.object({ emails: z.array(OutboxEmail) });
export type SandboxOutboxResponse = z.infer<typeof SandboxOutboxResponse>;
