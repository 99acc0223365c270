import { expect } from '@open-wc/testing';
import * as z from 'zod/mini';
import { AccessResponse, ErrorBody, Notification, PurchaseRequest, PurchaseResponse } from '../../src/protocol';

// The kit validates every backend answer in the browser with zod/mini; these are the answers it must accept or refuse.
describe('protocol schemas in the browser', () => {
  it('accepts the backend error body and keeps the extra fields a purchase needs', () => {
    const body = z.parse(ErrorBody, { error: { code: 'insufficient_funds', message: 'Top up to continue.', missing: 9500, topUpUrl: 'http://127.0.0.1:8787/hosted/top-up' } });
    expect(body.error.missing).to.equal(9500);
  });

  it('refuses money that is not integer minor units', () => {
    const wallet = { balance: 4.5, currency: 'EUR' };
    expect(z.safeParse(PurchaseResponse, { status: 'granted', entitlement: { product: 'a', expiresAt: '2026-01-01T00:00:00.000Z' }, wallet }).success).to.equal(false);
    expect(z.safeParse(PurchaseRequest, { product: 'article-42', price: 0.49, idempotencyKey: 'k'.repeat(20) }).success).to.equal(false);
  });

  it('refuses a malformed access answer and a notification with an unknown type', () => {
    expect(z.safeParse(AccessResponse, { access: [{ product: 'a', granted: 'yes', expiresAt: null }] }).success).to.equal(false);
    expect(z.safeParse(Notification, { id: 1, type: 'made.up', createdAt: '2026-01-01T00:00:00.000Z', resource: {} }).success).to.equal(false);
  });
});
