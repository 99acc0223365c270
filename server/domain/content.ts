import { readFile } from 'node:fs/promises';
import type { AccessGrant, ContentFragment } from '../../src/protocol';
import type { ServerConfig } from '../config';
import { ApiError } from '../errors';

/** Paid HTML fragments, read from the files the catalog names and kept in memory once read. */
export class ContentLibrary {
  readonly #cache = new Map<string, Promise<string>>();

  constructor(private readonly config: ServerConfig) {}

  /** Throws `unknown_product` before any access check, so the check below it needs no product lookup. */
  assertKnown(product: string): void {
    if (!this.config.products.has(product)) throw new ApiError(404, 'unknown_product', `There is no product "${product}" in the catalog.`);
  }

  /** Whether `product` has a fragment to load from the backend (inline-only products have none). */
  has(product: string): boolean {
    return this.config.products.get(product)?.contentPath !== undefined;
  }

  /** The fragments of the granted products (of `wanted`, if given) that have backend content. */
  readable(grants: AccessGrant[], wanted?: Iterable<string>): Promise<ContentFragment[]> {
    const asked = wanted && new Set(wanted);
    const readable = grants.filter((grant) => grant.granted && (!asked || asked.has(grant.product)) && this.has(grant.product));
    return Promise.all([...new Set(readable.map((grant) => grant.product))].map(async (product) => ({ product, html: await this.fragment(product) })));
  }

  async fragment(product: string): Promise<string> {
    const path = this.config.products.get(product)?.contentPath;
    if (!path) throw new ApiError(404, 'not_found', `Product "${product}" has no content to load from the backend.`);
    let cached = this.#cache.get(path);
    if (!cached) {
      cached = readFile(path, 'utf8');
      cached.catch(() => this.#cache.delete(path));
      this.#cache.set(path, cached);
    }
    return cached;
  }
}
