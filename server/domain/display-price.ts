import { ApiError } from '../errors';

/** The price a page showed must be the one charged: a stale one is refused before anything is written. */
export function checkDisplayPrice(shown: { price?: number | undefined; currency?: string | undefined }, item: { price: number; currency: string }): void {
  if ((shown.price !== undefined && shown.price !== item.price) || (shown.currency !== undefined && shown.currency !== item.currency)) {
    throw new ApiError(409, 'price_mismatch', `The price shown on the page is out of date: the price is ${item.price} ${item.currency} (minor units). Nothing was charged.`);
  }
}
