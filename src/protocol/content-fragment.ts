import * as z from 'zod/mini';
import { ProductId } from './catalog';

/** One product's paid HTML, as the backend serves it to a reader who may read it. */
export const ContentFragment = z.object({
  product: ProductId,
  html: z.string(),
});
export type ContentFragment = z.infer<typeof ContentFragment>;
