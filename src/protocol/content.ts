import * as z from 'zod/mini';
import { AccessRequest, MAX_PRODUCTS_PER_ACCESS_CHECK } from './access';
import { ProductId } from './catalog';

export const MAX_PRODUCTS_PER_CONTENT_REQUEST = MAX_PRODUCTS_PER_ACCESS_CHECK;

/** The paid fragments of several products in one request: the same list of 1–200 products an access check takes. */
export const ContentRequest = AccessRequest;
export type ContentRequest = AccessRequest;

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
