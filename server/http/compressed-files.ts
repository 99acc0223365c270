import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

export type ContentEncoding = 'br' | 'gzip' | 'identity';

export interface CompressedFile {
  /** Weak: one validator for all encodings of the same bytes. */
  etag: string;
  /** The file in `encoding`, compressed the first time it is asked for and kept. */
  bytes(encoding: ContentEncoding): Promise<Uint8Array<ArrayBuffer>>;
}

const compress = {
  br: promisify(brotliCompress),
  gzip: promisify(gzip),
};

/** Files read once per change on disk (size and modification time) and compressed once per encoding, held in memory. */
export class CompressedFiles {
  readonly #files = new Map<string, { stamp: string; file: Promise<CompressedFile> }>();

  /** The file at `path`, or null when there is no such file. */
  async get(path: string): Promise<CompressedFile | null> {
    const found = await stat(path).catch(() => null);
    if (!found?.isFile()) return null;
    const stamp = `${found.size}:${found.mtimeMs}`;
    let held = this.#files.get(path);
    if (held?.stamp !== stamp) {
      held = { stamp, file: readFile(path).then(compressedFile) };
      this.#files.set(path, held);
    }
    return held.file;
  }
}

function compressedFile(identity: Buffer): CompressedFile {
  const etag = `W/"${createHash('sha256').update(identity).digest('base64url').slice(0, 32)}"`;
  // Copied once into a plain ArrayBuffer, as a Response body takes it.
  const encoded = new Map<ContentEncoding, Promise<Uint8Array<ArrayBuffer>>>([['identity', Promise.resolve(new Uint8Array(identity))]]);
  return {
    etag,
    bytes(encoding) {
      let bytes = encoded.get(encoding);
      if (!bytes) {
        const compressed = encoding === 'br'
          ? compress.br(identity, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT, [constants.BROTLI_PARAM_SIZE_HINT]: identity.length } })
          : compress.gzip(identity, { level: constants.Z_BEST_COMPRESSION });
        bytes = compressed.then((buffer) => new Uint8Array(buffer));
        encoded.set(encoding, bytes);
      }
      return bytes;
    },
  };
}

/** The encoding to answer with: brotli, else gzip, when `Accept-Encoding` allows it (a listed or `*` coding with q > 0). */
export function preferredEncoding(acceptEncoding: string | undefined): ContentEncoding {
  const weights = new Map<string, number>();
  for (const part of (acceptEncoding ?? '').split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q\s*=\s*([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    if (name) weights.set(name.trim(), q === undefined ? 1 : Number(q));
  }
  const accepts = (coding: string) => (weights.get(coding) ?? weights.get('*') ?? 0) > 0;
  return accepts('br') ? 'br' : accepts('gzip') ? 'gzip' : 'identity';
}

/** Whether an `If-None-Match` header names `etag` (weak comparison, as for GET). */
export function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === opaque(etag));
}
