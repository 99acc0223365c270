import * as z from 'zod/mini';
import { PlanId, ProductId } from './ids';
import { Currency, MinorUnits } from './money';

export { PlanId };

/** Calendar unit of a billing period; months and years follow the calendar (see the billing clock). */
export const PeriodUnit = z.enum(['day', 'week', 'month', 'year']);
export type PeriodUnit = z.infer<typeof PeriodUnit>;

/** How a reader pays: from the prepaid wallet, or with a card entered on the hosted checkout page. */
export const PaymentMethod = z.enum(['wallet', 'card']);
export type PaymentMethod = z.infer<typeof PaymentMethod>;

/** A subscription plan: `price` every `periodLength` `periodUnit`s, granting access to `products`. */
export const Plan = z.object({
  id: PlanId,
  title: z.string(),
  price: MinorUnits,
  currency: Currency,
  periodLength: z.int().check(z.positive()),
  periodUnit: PeriodUnit,
  /** Products a live subscription gives access to. */
  products: z.array(ProductId),
  /** Free days before the first charge, when the plan has a trial. */
  trialDays: z.optional(z.int().check(z.positive())),
  /** The methods this backend accepts for the plan. */
  methods: z.array(PaymentMethod),
});
export type Plan = z.infer<typeof Plan>;
