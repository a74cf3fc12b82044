/**
 * The order in which Open vSwitch walks the members of a JSON object it has
 * parsed: by their slot in a hash table keyed on the member name, not in
 * the order they were written. It is visible from outside wherever the real
 * tools report "the first" of several things or print an object: which of
 * several bad columns of one row ovsdb-server names, and the order in which
 * `ovsdb-tool show-log -mm` prints tables and columns. Matching it lets
 * ovnts answer byte for byte.
 *
 * Measured on OVS 3.1 (the schemas it writes and the errors it picks): the
 * table starts with one slot, grows to 4, 8, 16... slots once it holds more
 * than twice as many members as slots, a member goes to the front of its
 * slot's chain, growing re-inserts members slot by slot, and the name hash
 * is the MurmurHash3-style 32-bit string hash OVS uses (basis 0).
 */

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/** One 32-bit word into the running hash (a zero word leaves it as it was). */
function mix(hash: number, word: number): number {
  let h = hash;
  if (word !== 0) {
    let w = Math.imul(word, 0xcc9e2d51) >>> 0;
    w = rotl(w, 15);
    w = Math.imul(w, 0x1b873593) >>> 0;
    h = (h ^ w) >>> 0;
  }
  h = rotl(h, 13);
  return (Math.imul(h, 5) + 0xe6546b64) >>> 0;
}

/** OVS's hash of a member name: its UTF-8 bytes as little-endian words, then the length, then the final avalanche. */
export function ovsNameHash(name: string): number {
  const b = Buffer.from(name, 'utf8');
  let h = 0;
  let i = 0;
  for (; i + 4 <= b.length; i += 4) h = mix(h, b.readUInt32LE(i));
  if (i < b.length) {
    let tail = 0;
    for (let j = 0; i + j < b.length; j++) tail |= (b[i + j] as number) << (8 * j);
    h = mix(h, tail >>> 0);
  }
  h = (h ^ b.length) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** The slot mask for a table that must hold `n` members: at least 4 slots once it grows. */
function maskFor(n: number): number {
  let m = Math.floor(n / 2);
  for (const s of [1, 2, 4, 8, 16]) m |= m >>> s;
  return m | ((m & 1) << 1);
}

/**
 * `keys` (in the order they were added, e.g. as written in the JSON text) in
 * the order OVS visits them. `hash` is the key hash (the name hash by default).
 */
export function ovsMemberOrder<K>(keys: Iterable<K>, hash: (k: K) => number): K[];
export function ovsMemberOrder(keys: Iterable<string>): string[];
export function ovsMemberOrder<K>(keys: Iterable<K>, hash: (k: K) => number = (k) => ovsNameHash(k as string)): K[] {
  let mask = 0;
  let slots: Array<Array<[K, number]>> = [[]];
  let n = 0;
  const put = (into: Array<Array<[K, number]>>, e: [K, number], m: number): void => {
    (into[e[1] & m] as Array<[K, number]>).unshift(e);
  };
  for (const k of keys) {
    put(slots, [k, hash(k)], mask);
    n++;
    if (Math.floor(n / 2) > mask) {
      const m = maskFor(n);
      if (m > mask) {
        const grown: Array<Array<[K, number]>> = Array.from({ length: m + 1 }, () => []);
        for (const slot of slots) for (const e of slot) put(grown, e, m);
        slots = grown;
        mask = m;
      }
    }
  }
  return slots.flat().map((e) => e[0]);
}
