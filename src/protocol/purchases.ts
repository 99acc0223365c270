import * as z from 'zod/mini';
import { ProductId } from './catalog';
import { Currency, MinorUnits, Wallet } from './money';

/** Client-chosen key that makes a purchase safe to retry: one key, at most one charge. */
export const IdempotencyKey = z.string().check(z.regex(/^[A-Za-z0-9_-]{16,128}$/, 'idempotencyKey must be 16–128 characters of A–Z, a–z, 0–9, "_" or "-"'));

/** A merchant-signed offer: base64url(JSON payload) "." base64url(HMAC-SHA256). */
export const OfferToken = z.string().check(z.maxLength(4096));

const purchaseFields = {
  /** Display price the reader saw; the server refuses to charge when it differs. */
  price: z.optional(MinorUnits),
  currency: z.optional(Currency),
  idempotencyKey: IdempotencyKey,
};

export const PurchaseRequest = z.union([
  z.strictObject({ product: ProductId, ...purchaseFields }),
  z.strictObject({ offer: OfferToken, ...purchaseFields }),
]);
export type PurchaseRequest = z.infer<typeof PurchaseRequest>;

export const Entitlement = z.object({
  product: ProductId,
  expiresAt: z.iso.datetime(),
});
export type Entitlement = z.infer<typeof Entitlement>;

export const PurchaseResponse = z.object({
  status: z.literal('granted'),
  entitlement: Entitlement,
  wallet: Wallet,
});
export type PurchaseResponse = z.infer<typeof PurchaseResponse>;

/** What a signed offer asserts; the signature covers exactly these fields. */
export const OfferPayload = z.strictObject({
  product: ProductId,
  title: z.string().check(z.minLength(1), z.maxLength(200)),
  price: MinorUnits,
  currency: Currency,
  validity: z.int().check(z.positive()),
  /** Unix seconds after which the offer can no longer be bought. */
  expiresAt: z.int().check(z.positive()),
});
export type OfferPayload = z.infer<typeof OfferPayload>;
