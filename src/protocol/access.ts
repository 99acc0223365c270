import * as z from 'zod/mini';
import { ProductId } from './catalog';
import { ContentFragment } from './content-fragment';

export const MAX_PRODUCTS_PER_ACCESS_CHECK = 200;

/** 1–200 product ids: what an access check, and a request for several paid fragments, take. */
export const ProductList = z.array(ProductId).check(z.minLength(1), z.maxLength(MAX_PRODUCTS_PER_ACCESS_CHECK));

export const AccessRequest = z.strictObject({
  products: ProductList,
  /**
   * Products (of `products`) whose paid fragments the answer should carry if they are granted: a
   * page that shows them on access then needs no second round trip to open them.
   */
  content: z.optional(z.array(ProductId).check(z.maxLength(MAX_PRODUCTS_PER_ACCESS_CHECK))),
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
  /** The paid fragments asked for with `content` that the reader may read and the backend has. */
  content: z.optional(z.array(ContentFragment)),
});
export type AccessResponse = z.infer<typeof AccessResponse>;
