import * as z from 'zod/mini';
import { MAX_PRODUCTS_PER_ACCESS_CHECK, ProductList } from './access';
import { ContentFragment } from './content-fragment';

export const MAX_PRODUCTS_PER_CONTENT_REQUEST = MAX_PRODUCTS_PER_ACCESS_CHECK;

/** The paid fragments of several products in one request: the same list of 1–200 products an access check takes. */
export const ContentRequest = z.strictObject({
  products: ProductList,
});
export type ContentRequest = z.infer<typeof ContentRequest>;

/** Only the products the caller may read and that have backend content; the rest are left out. */
export const ContentResponse = z.object({
  content: z.array(ContentFragment),
});
export type ContentResponse = z.infer<typeof ContentResponse>;
