/**
 * A cache on disk, shared by processes and worker threads, for set-up work
 * that is the same every time (decoded MNIST, generated datasets, PCA
 * whitening): typed arrays stored raw beside a small JSON header, under a
 * key that names everything the values depend on.
 *
 * - Where: $OPTEVO_CACHE_DIR, else $XDG_CACHE_HOME/optevo, else
 *   ~/.cache/optevo. OPTEVO_CACHE=off turns it off.
 * - A file is written to a temporary name and renamed into place, so a
 *   reader never sees half a file, whatever runs beside it.
 * - The header repeats the full key, so a stale or colliding file is a miss,
 *   never wrong data. Bump CACHE_VERSION when a generator's output changes.
 * - Every failure (no disk, no permission, a corrupt file) is a miss: the
 *   values are then computed as if there were no cache.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';

export const CACHE_VERSION = 1;

export type CachedArray = Float32Array | Float64Array | Int32Array;

interface Header {
  key: string;
  meta: unknown;
  arrays: { type: 'f32' | 'f64' | 'i32'; length: number }[];
}

const MAGIC = 'optevo-cache\n';

export function cacheDir(): string | null {
  if ((process.env.OPTEVO_CACHE ?? '').toLowerCase() === 'off') return null;
  if (process.env.OPTEVO_CACHE_DIR) return process.env.OPTEVO_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'optevo');
}

function fileFor(dir: string, key: string): string {
  return join(dir, createHash('sha256').update(`${CACHE_VERSION}\0${key}`).digest('hex').slice(0, 32) + '.bin');
}

function typeOf(a: CachedArray): 'f32' | 'f64' | 'i32' {
  return a instanceof Float32Array ? 'f32' : a instanceof Float64Array ? 'f64' : 'i32';
}

/** Reads the entry for `key`, or null (no cache, no entry, another key's file, a damaged file). */
export function readCache(key: string): { meta: unknown; arrays: CachedArray[] } | null {
  const dir = cacheDir();
  if (!dir) return null;
  try {
    const buf = readFileSync(fileFor(dir, key));
    if (buf.toString('latin1', 0, MAGIC.length) !== MAGIC) return null;
    const headerLen = buf.readUInt32LE(MAGIC.length);
    const start = MAGIC.length + 4;
    const header = JSON.parse(buf.toString('utf8', start, start + headerLen)) as Header;
    if (header.key !== key) return null;
    // Arrays start on an 8-byte boundary (see writeCache).
    let at = align8(start + headerLen);
    const arrays: CachedArray[] = [];
    for (const a of header.arrays) {
      const bytes = a.length * (a.type === 'f64' ? 8 : 4);
      if (at + bytes > buf.length) return null;
      // A view on the file's bytes where aligned (files this size get their own buffer), else a copy.
      const off = buf.byteOffset + at;
      const [raw, o] = off % 8 === 0 ? [buf.buffer, off] : [buf.buffer.slice(off, off + bytes), 0];
      arrays.push(a.type === 'f32' ? new Float32Array(raw, o, a.length) : a.type === 'f64' ? new Float64Array(raw, o, a.length) : new Int32Array(raw, o, a.length));
      at += bytes;
    }
    return { meta: header.meta, arrays };
  } catch {
    return null;
  }
}

const align8 = (n: number) => (n + 7) & ~7;

/** Stores the entry for `key` (best effort: a failure leaves no file and throws nothing). */
export function writeCache(key: string, meta: unknown, arrays: CachedArray[]): void {
  const dir = cacheDir();
  if (!dir) return;
  const file = fileFor(dir, key);
  const tmp = `${file}.${process.pid}.${threadId}.tmp`;
  try {
    mkdirSync(dir, { recursive: true });
    const header = Buffer.from(JSON.stringify({ key, meta, arrays: arrays.map((a) => ({ type: typeOf(a), length: a.length })) } satisfies Header), 'utf8');
    const start = MAGIC.length + 4;
    const body = align8(start + header.length);
    const total = arrays.reduce((s, a) => s + a.byteLength, body);
    const out = Buffer.alloc(total);
    out.write(MAGIC, 0, 'latin1');
    out.writeUInt32LE(header.length, MAGIC.length);
    header.copy(out, start);
    let at = body;
    for (const a of arrays) {
      Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(out, at);
      at += a.byteLength;
    }
    writeFileSync(tmp, out);
    renameSync(tmp, file);
  } catch {
    // A cache that cannot be written is a cache that misses next time.
  }
}

/**
 * The cached value for `key`, else `make()`'s, stored for next time. `encode`
 * and `decode` turn the value into typed arrays plus JSON metadata and back.
 */
export function diskCached<T>(
  key: string,
  make: () => T,
  encode: (v: T) => { meta: unknown; arrays: CachedArray[] },
  decode: (meta: unknown, arrays: CachedArray[]) => T,
  /** Store only values that took at least this long to make (cheap ones would only fill the disk). */
  minMakeMs = 0,
): T {
  const hit = readCache(key);
  if (hit) {
    try {
      return decode(hit.meta, hit.arrays);
    } catch {
      // A damaged entry: computed again below, and overwritten.
    }
  }
  const t0 = performance.now();
  const v = make();
  if (performance.now() - t0 >= minMakeMs) {
    const { meta, arrays } = encode(v);
    writeCache(key, meta, arrays);
  }
  return v;
}
