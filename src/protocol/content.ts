import * as z from 'zod/mini';
import { ProductId } from './catalog';

export const MAX_PRODUCTS_PER_CONTENT_REQUEST = 200;

/** The paid fragments of several products in one request (a page with many paid parts). */
export const ContentRequest = z.strictObject({
  products: z.array(ProductId).check(z.minLength(1), z.maxLength(MAX_PRODUCTS_PER_CONTENT_REQUEST)),
});
export type ContentRequest = z.infer<typeof ContentRequest>;

export const ContentFragment = z.object({
  product: ProductId,
  html: z.string(),
});
export type ContentFragment = z.infer<typeof ContentFragment>;

/** Only the products the caller may read and that have backend content; the rest are left out. */
export const ContentResponse = z.object({
  content: z.array(ContentFragment),
});
export type ContentResponse = z.infer<typeof ContentResponse>;
