/**
 * Fast non-cryptographic hashes (cyrb53's mixing). Numbers are hashed by
 * their bits, so the value graph hashes nodes without building strings.
 */
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);

let h1 = 0;
let h2 = 0;

function start(seed: number): void {
  h1 = 0xdeadbeef ^ seed;
  h2 = 0x41c6ce57 ^ seed;
}
function feed(x: number): void {
  F64[0] = x;
  const a = U32[0]!;
  const b = U32[1]!;
  h1 = Math.imul(h1 ^ a, 2654435761);
  h2 = Math.imul(h2 ^ a, 1597334677);
  h1 = Math.imul(h1 ^ b, 2654435761);
  h2 = Math.imul(h2 ^ b, 1597334677);
}
function finish(): number {
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** A 53-bit hash of up to four numbers (exact integers below 2^53 and doubles alike). */
export function hashNumbers(a: number, b = 0, c = 0, d = 0, seed = 0): number {
  start(seed);
  feed(a);
  feed(b);
  feed(c);
  feed(d);
  return finish();
}

/** A 53-bit hash of a list of numbers. */
export function hashList(xs: readonly number[], seed = 0): number {
  start(seed);
  feed(xs.length);
  for (const x of xs) feed(x);
  return finish();
}

/** A 53-bit string hash, as 14 hex digits. */
export function hash53(str: string, seed = 0): string {
  start(seed);
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  return finish().toString(16).padStart(14, '0');
}

export function hash106(str: string): string {
  return hash53(str, 0) + hash53(str, 0x9e3779b9);
}

/** 106 bits of a list of numbers, as 28 hex digits. */
export function hashListHex(xs: readonly number[]): string {
  return hashList(xs, 0).toString(16).padStart(14, '0') + hashList(xs, 0x9e3779b9).toString(16).padStart(14, '0');
}
