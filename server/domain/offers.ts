import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod/mini';
import { decodeOfferToken, OfferPayload } from '../../src/protocol';
import { ApiError } from '../errors';

const canonical = (offer: OfferPayload) =>
  JSON.stringify([offer.product, offer.title, offer.price, offer.currency, offer.validity, offer.expiresAt]);

const mac = (secret: string, payload: OfferPayload) => createHmac('sha256', secret).update(canonical(payload)).digest();

/** `base64url(JSON payload).base64url(HMAC-SHA256)`: merchants sign dynamic prices the server can trust. */
export function signOffer(secret: string, payload: OfferPayload): string {
  const valid = z.parse(OfferPayload, payload);
  return `${Buffer.from(JSON.stringify(valid)).toString('base64url')}.${mac(secret, valid).toString('base64url')}`;
}

export function verifyOffer(secret: string, token: string, now: Date): OfferPayload {
  const decoded = decodeOfferToken(token);
  const expected = decoded && mac(secret, decoded.payload);
  if (!decoded || !expected || decoded.signature.length !== expected.length || !timingSafeEqual(decoded.signature, expected)) {
    throw new ApiError(400, 'invalid_offer', 'This offer is not valid. Reload the page and try again.');
  }
  if (decoded.payload.expiresAt * 1000 <= now.getTime()) throw new ApiError(400, 'offer_expired', 'This offer has expired. Reload the page for the current price.');
  return decoded.payload;
}
