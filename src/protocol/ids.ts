import * as z from 'zod/mini';

/** Product and offer ids: what editors type into `product="…"`. */
export const ProductId = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'Product ids are 1–128 letters, digits, ".", "_", ":" or "-"'));

/** Subscription plan ids, as in `<subscribe-form plans="gold-monthly gold-yearly">`. */
export const PlanId = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'Plan ids are 1–128 letters, digits, ".", "_", ":" or "-"'));
