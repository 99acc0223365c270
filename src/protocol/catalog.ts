import * as z from 'zod/mini';
import { Currency, MinorUnits } from './money';

/** Product and offer ids: what editors type into `product="…"`. */
export const ProductId = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'Product ids are 1–128 letters, digits, ".", "_", ":" or "-"'));

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
  plans: z.array(z.unknown()),
});
export type CatalogResponse = z.infer<typeof CatalogResponse>;
