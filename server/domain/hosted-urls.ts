import type { ServerConfig } from '../config';

export type HostedPage = 'sign-in' | 'sign-up' | 'top-up';

/** Links to the backend's hosted pages, carrying the merchant origin only when it is allowlisted. */
export class HostedUrls {
  constructor(private readonly config: ServerConfig) {}

  isMerchantOrigin(origin: string | undefined | null): origin is string {
    return !!origin && this.config.merchantOrigins.includes(origin);
  }

  page(page: HostedPage, origin: string | undefined, params: Record<string, string> = {}): string {
    const url = new URL(`/hosted/${page}`, this.config.publicBaseUrl);
    if (this.isMerchantOrigin(origin)) url.searchParams.set('origin', origin);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    return url.href;
  }
}
