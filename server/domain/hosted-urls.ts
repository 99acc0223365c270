import type { ServerConfig } from '../config';

export type HostedPage = 'sign-in' | 'sign-up' | 'top-up';

/** Links to the backend's hosted pages, carrying the merchant origin only when it is allowlisted. */
export class HostedUrls {
  constructor(private readonly config: ServerConfig) {}

  /** The backend's own origin counts too: its demo pages embed the kit like any merchant page. */
  isMerchantOrigin(origin: string | undefined | null): origin is string {
    return !!origin && (origin === this.config.ownOrigin || this.config.merchantOrigins.includes(origin));
  }

  /**
   * Where a hosted page may send the reader back to: an absolute http(s) URL on an allowlisted
   * origin, or a path on the backend itself (its demo pages). Null for anything else.
   */
  returnUrl(value: string): string | null {
    if (value.length > 2048) return null;
    try {
      const sameOrigin = value.startsWith('/') && !value.startsWith('//') && !value.startsWith('/\\');
      const url = new URL(value, sameOrigin ? this.config.ownOrigin : undefined);
      const allowed = sameOrigin ? url.origin === this.config.ownOrigin : this.isMerchantOrigin(url.origin);
      return allowed && (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password ? url.href : null;
    } catch {
      return null;
    }
  }

  page(page: HostedPage, origin: string | undefined, params: Record<string, string> = {}): string {
    const url = new URL(`/hosted/${page}`, this.config.publicBaseUrl);
    if (this.isMerchantOrigin(origin)) url.searchParams.set('origin', origin);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    return url.href;
  }
}
