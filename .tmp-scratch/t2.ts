import * as z from 'zod/mini';
import { PurchaseRequest, TopUpRequest, Credentials } from '../src/protocol';
const en = z.locales.en().localeError;
const show = (s: any, v: any) => { const r = z.safeParse(s, v, { error: en }); console.log(JSON.stringify(r.success ? 'OK' : r.error.issues)); };
show(PurchaseRequest, { product: 'article-42', idempotencyKey: 'x'.repeat(20), extra: 1 });
show(PurchaseRequest, { product: 'article-42', idempotencyKey: 'x'.repeat(20), price: 1.5 });
show(TopUpRequest, { amount: -1, currency: 'EUR', card: { number: 1 }, idempotencyKey: 'x'.repeat(20) });
show(Credentials, { email: 1 });
show(Credentials, null);
