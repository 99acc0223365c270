import * as z from 'zod/mini';

/** Every error code the backend answers with; clients branch on these, never on messages. */
export const ErrorCode = z.enum([
  'bad_request',
  'invalid_json',
  'payload_too_large',
  'unsupported_media_type',
  'validation_failed',
  'not_found',
  'method_not_allowed',
  'internal_error',
  'email_taken',
  'weak_password',
  'invalid_email',
  'invalid_credentials',
  'account_locked',
  'unauthenticated',
  'sign_in_required',
  'insufficient_funds',
  'price_mismatch',
  'idempotency_conflict',
  'unknown_product',
  'invalid_offer',
  'offer_expired',
  'access_required',
  'card_declined',
  'currency_mismatch',
  'forbidden_origin',
  'unknown_plan',
  'subscription_exists',
  'subscription_not_found',
  'payment_method_not_allowed',
  'payment_method_unavailable',
  'currency_unsupported',
  'invalid_return_url',
  'intent_not_found',
  'intent_expired',
  'authentication_required',
  'authentication_failed',
  'cancel_at_provider',
  'provider_unavailable',
  'admin_api_disabled',
  'wallet_not_connected',
  'payout_in_progress',
  'merchant_balance_too_low',
  'milkipay_account_error',
  'milkipay_payment_error',
  'milkipay_error',
  'milkipay_unavailable',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorBody = z.object({
  error: z.object({
    code: z.string().check(z.regex(/^[a-z][a-z0-9_]*$/)),
    message: z.string(),
    signInUrl: z.optional(z.string()),
    topUpUrl: z.optional(z.string()),
    missing: z.optional(z.int()),
    /** `cancel_at_provider`: the payment provider's page where the reader cancels. */
    cancelUrl: z.optional(z.string()),
    /** A payment provider's own error code (Milkipay `CAI-…`), kept as received. */
    providerCode: z.optional(z.string()),
    issues: z.optional(z.array(z.object({ path: z.string(), message: z.string() }))),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
