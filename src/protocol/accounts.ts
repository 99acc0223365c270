import * as z from 'zod/mini';
import { Wallet } from './money';

export const Credentials = z.strictObject({
  email: z.string().check(z.maxLength(254)),
  password: z.string().check(z.maxLength(1024)),
});
export type Credentials = z.infer<typeof Credentials>;

export const Customer = z.object({
  id: z.string(),
  email: z.string(),
  createdAt: z.iso.datetime(),
});
export type Customer = z.infer<typeof Customer>;

/** Answer to sign-up and sign-in: the bearer token is shown exactly once. */
export const SessionResponse = z.object({
  token: z.string(),
  customer: Customer,
  wallet: Wallet,
});
export type SessionResponse = z.infer<typeof SessionResponse>;

export const MeResponse = z.object({
  customer: Customer,
  wallet: Wallet,
});
export type MeResponse = z.infer<typeof MeResponse>;
