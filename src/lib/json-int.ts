/**
 * JSON text with exact 64-bit integers (RFC 7047 integers are int64; JSON.parse
 * rounds those beyond 2^53). Integers that a double cannot hold exactly become
 * BigInt; every other number stays a number, so the common case pays nothing:
 * the fast paths are plain JSON.parse/JSON.stringify, and the slow ones run only
 * when a long digit run is present or a BigInt is being written.
 */
const MARK = '\u0000int:';
const LONG_DIGITS = /\d{16}/;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * The one form of an integer value: a number when it is a safe integer, else
 * a BigInt (a double beyond 2^53 would be written back with other digits).
 * Every integer atom is in this form, so `===` compares values.
 */
export function integerValue(b: bigint): number | bigint {
  const n = Number(b);
  return Number.isSafeInteger(n) ? n : b;
}

/** An integer token's value; beyond int64 it is a real to OVSDB, as to ovsdb-server's parser. */
export function exactInteger(digits: string): number | bigint {
  const n = Number(digits);
  if (Number.isSafeInteger(n)) return n;
  const b = BigInt(digits);
  return b < -(2n ** 63n) || b >= 2n ** 63n ? n : integerValue(b);
}

/** JSON.parse, with integers beyond 2^53 exact (as BigInt). */
export function parseJson(text: string): unknown {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text);
  // Quote every long integer token outside strings, then revive it.
  let out = '';
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    if (c !== 0x2d && !isDigit(c)) continue;
    // The whole number token: digits, sign, fraction, exponent.
    let j = i + 1;
    let integer = true;
    for (; j < text.length; j++) {
      const d = text.charCodeAt(j);
      if (isDigit(d)) continue;
      if (d !== 0x2e && d !== 0x65 && d !== 0x45 && d !== 0x2b && d !== 0x2d) break;
      integer = false;
    }
    if (integer && j - i >= 16) {
      // The marker's NUL written as JSON's escape: a raw one is not valid JSON.
      out += `${text.slice(last, i)}"\\u0000int:${text.slice(i, j)}"`;
      last = j;
    }
    i = j - 1;
  }
  out += text.slice(last);
  return JSON.parse(out, (_k, v: unknown) => (typeof v === 'string' && v.startsWith(MARK) ? exactInteger(v.slice(MARK.length)) : v));
}

const MARKED = /"\\u0000int:(-?\d+)"/g;

/** JSON.stringify that writes BigInts as JSON integers. `replacer` as JSON.stringify's. */
export function stringifyJson(value: unknown, replacer?: (key: string, value: unknown) => unknown): string {
  try {
    return JSON.stringify(value, replacer);
  } catch (e) {
    if (!(e instanceof TypeError) || !/BigInt/.test(e.message)) throw e;
  }
  const text = JSON.stringify(value, (k, v: unknown) => {
    const r = replacer === undefined ? v : replacer(k, v);
    return typeof r === 'bigint' ? `${MARK}${r}` : r;
  });
  return text.replace(MARKED, '$1');
}
