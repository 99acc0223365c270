import * as z from 'zod/mini';
import { ProductId } from './catalog';

export const MAX_PRODUCTS_PER_ACCESS_CHECK = 200;

export const AccessRequest = z.strictObject({
  products: z.array(ProductId).check(z.minLength(1), z.maxLength(MAX_PRODUCTS_PER_ACCESS_CHECK)),
});
export type AccessRequest = z.infer<typeof AccessRequest>;

export const AccessGrant = z.object({
  product: ProductId,
  granted: z.boolean(),
  expiresAt: z.nullable(z.iso.datetime()),
});
export type AccessGrant = z.infer<typeof AccessGrant>;

export const AccessResponse = z.object({
  access: z.array(AccessGrant),
  /**
   * For a signed-in reader: the reader's newest notification id as of this answer (0 for none).
   * The answer already reflects every notification up to it, so a page's first socket resumes with
   * `after=` this id instead of replaying the reader's whole history.
   */
  notificationCursor: z.optional(z.int().check(z.gte(0))),
});
export type AccessResponse = z.infer<typeof AccessResponse>;
