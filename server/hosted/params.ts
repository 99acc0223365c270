import type { HonoRequest } from 'hono';
import type { HostedPage } from '../domain/hosted-urls';
import type { HostedUrls } from '../domain/hosted-urls';
import { pageLang, type Lang } from './i18n';

/** The query parameters every hosted page takes, validated. */
export interface HostedParams {
  lang: Lang;
  /** Allowlisted merchant origin the completion message is posted to. */
  origin?: string;
  /** Absolute URL on an allowlisted origin or the backend's own, used when the page has no opener. */
  returnUrl?: string;
  /** Top-up only: minor units still missing for a purchase. */
  amount?: number;
  /** Top-up only: the currency the merchant asks for. */
  currency?: string;
  /** After sign-in or sign-up, continue to this page instead of completing. */
  next?: 'top-up';
}

export type ParamsResult = { ok: true; params: HostedParams } | { ok: false; lang: Lang; problem: { kind: 'origin'; origin: string | null } | { kind: 'return' } };

const MAX_AMOUNT = 100_000_000;

export function readParams(req: HonoRequest, urls: HostedUrls): ParamsResult {
  const lang = pageLang(req);
  const params: HostedParams = { lang };

  const origin = req.query('origin');
  if (origin) {
    const shown = displayOrigin(origin);
    if (!urls.isMerchantOrigin(origin)) return { ok: false, lang, problem: { kind: 'origin', origin: shown } };
    params.origin = origin;
  }

  const returnParam = req.query('return');
  if (returnParam) {
    const returnUrl = urls.returnUrl(returnParam);
    if (!returnUrl) return { ok: false, lang, problem: { kind: 'return' } };
    params.returnUrl = returnUrl;
  }

  const amount = req.query('amount');
  if (amount && /^[0-9]{1,9}$/.test(amount)) {
    const value = Number(amount);
    if (value >= 1 && value <= MAX_AMOUNT) params.amount = value;
  }
  const currency = req.query('currency');
  if (currency && /^[A-Z]{3}$/.test(currency)) params.currency = currency;
  if (req.query('next') === 'top-up') params.next = 'top-up';
  return { ok: true, params };
}

/** The origin as the error page may show it: only a well-formed web origin, never arbitrary text. */
function displayOrigin(value: string): string | null {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value ? value : null;
  } catch {
    return null;
  }
}

/** Same-origin link to a hosted page that keeps every parameter; `overrides` replace or (with null) drop some. */
export function hostedHref(page: HostedPage, params: HostedParams, overrides: Partial<Record<keyof HostedParams, string | number | null>> = {}): string {
  const merged: Record<string, string | number | null | undefined> = {
    origin: params.origin,
    return: params.returnUrl,
    lang: params.lang,
    amount: params.amount,
    currency: params.currency,
    next: params.next,
  };
  for (const [key, value] of Object.entries(overrides)) merged[key === 'returnUrl' ? 'return' : key] = value;
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(merged)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const query = search.toString();
  return `/hosted/${page}${query ? `?${query}` : ''}`;
}
