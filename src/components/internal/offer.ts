import * as z from 'zod/mini';
import { OfferPayload } from '../../protocol';

/**
 * Reads what a signed offer says, for display only: the browser cannot check the signature, and
 * does not need to, because the backend prices the purchase from the verified offer.
 */
export function readOffer(token: string): OfferPayload | null {
  const [body] = token.split('.');
  if (!body) return null;
  try {
    const json = atob(body.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(json, (ch) => ch.charCodeAt(0));
    const parsed = z.safeParse(OfferPayload, JSON.parse(new TextDecoder().decode(bytes)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
