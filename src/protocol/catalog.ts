import * as z from 'zod/mini';
import { ProductId } from './ids';
import { Currency, MinorUnits } from './money';
import { Plan } from './plans';

export { ProductId };

export const Product = z.object({
  id: ProductId,
  title: z.string(),
  price: MinorUnits,
  currency: Currency,
  /** Seconds an entitlement lasts after purchase. */
  validity: z.int().check(z.positive()),
});
export type Product = z.infer<typeof Product>;

export const CatalogResponse = z.object({
  products: z.array(Product),
  plans: z.array(Plan),
});
export type CatalogResponse = z.infer<typeof CatalogResponse>;
