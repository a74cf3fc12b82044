/**
 * Address syntax as ovn-nbctl accepts it. ovn-nbctl reads MACs, IPs, masks and
 * prefix lengths with scanf-style conversions, so what it takes is wider than the
 * canonical forms: leading blanks and a sign before a number, `%hhx`/`%hhu` octets
 * that wrap modulo 256, a prefix length read as a C `int` (4294967320 is 24), a
 * MAC followed by anything. These functions take exactly that (each rule checked
 * against ovn-nbctl 23.03 in test/compat/nbctl-address-refusals.test.ts), so
 * ovnts refuses what it refuses and stores what it stores.
 */

export interface Scanned<T> {
  readonly value: T;
  /** Index just past what was read. */
  readonly end: number;
}

const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
const TWO64 = 2n ** 64n;

/**
 * A C integer conversion from `s` at `i`: blanks, a sign, (hex: `0x`), digits, as
 * strtoul/strtol read them. The value is the mathematical one; callers wrap it.
 */
function scanInteger(s: string, i: number, hex: boolean): Scanned<bigint> | undefined {
  let j = i;
  while (isBlank(s[j])) j++;
  let neg = false;
  if (s[j] === '+' || s[j] === '-') {
    neg = s[j] === '-';
    j++;
  }
  const digit = hex ? /[0-9a-fA-F]/ : /[0-9]/;
  if (hex && s[j] === '0' && (s[j + 1] === 'x' || s[j + 1] === 'X') && digit.test(s[j + 2] ?? '')) j += 2;
  const start = j;
  while (j < s.length && digit.test(s[j] as string)) j++;
  if (j === start) return undefined;
  const v = BigInt(`${hex ? '0x' : ''}${s.slice(start, j)}`);
  return { value: neg ? -v : v, end: j };
}

/** `%hhu` / `%hhx`: an unsigned conversion stored in a byte (strtoul clamps at 2^64-1, then the byte keeps the low 8 bits). */
function scanOctet(s: string, i: number, hex: boolean): Scanned<number> | undefined {
  const r = scanInteger(s, i, hex);
  if (r === undefined) return undefined;
  let v = r.value;
  if (v >= TWO64 || v <= -TWO64) v = TWO64 - 1n;
  return { value: Number(((v % 256n) + 256n) % 256n), end: r.end };
}

/** `%d`: strtol clamped to 64 bits, stored in a 32-bit int. */
function scanInt(s: string, i: number): Scanned<number> | undefined {
  const r = scanInteger(s, i, false);
  if (r === undefined) return undefined;
  let v = r.value;
  if (v >= 2n ** 63n) v = 2n ** 63n - 1n;
  if (v < -(2n ** 63n)) v = -(2n ** 63n);
  return { value: Number(BigInt.asIntN(32, v)), end: r.end };
}

/** An Ethernet address as ovn-nbctl reads one: six `%hhx` joined by ':', anything may follow. */
export function scanMac(s: string, i = 0): Scanned<string> | undefined {
  const octets: number[] = [];
  let j = i;
  for (let k = 0; k < 6; k++) {
    if (k > 0) {
      if (s[j] !== ':') return undefined;
      j++;
    }
    const o = scanOctet(s, j, true);
    if (o === undefined) return undefined;
    octets.push(o.value);
    j = o.end;
  }
  return { value: octets.map((o) => o.toString(16).padStart(2, '0')).join(':'), end: j };
}

/** A dotted quad as four `%hhu`. */
export function scanIpv4(s: string, i = 0): Scanned<number> | undefined {
  let v = 0;
  let j = i;
  for (let k = 0; k < 4; k++) {
    if (k > 0) {
      if (s[j] !== '.') return undefined;
      j++;
    }
    const o = scanOctet(s, j, false);
    if (o === undefined) return undefined;
    v = v * 256 + o.value;
    j = o.end;
  }
  return { value: v, end: j };
}

function ipv4PrefixLength(mask: number): number | undefined {
  for (let n = 0; n <= 32; n++) if ((n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0) === mask) return n;
  return undefined;
}

export interface IpNetwork {
  readonly family: 4 | 6;
  /** The address as written (v4: a 32-bit number; v6: a bigint). */
  readonly addr: number | bigint;
  readonly plen: number;
}

/**
 * An IPv4 address with an optional `/plen` or `/mask` (a CIDR mask), the whole
 * string; undefined when ovn-nbctl would refuse it.
 */
export function parseIpv4Cidr(s: string): IpNetwork | undefined {
  const ip = scanIpv4(s);
  if (ip === undefined) return undefined;
  if (ip.end === s.length) return { family: 4, addr: ip.value, plen: 32 };
  if (s[ip.end] !== '/') return undefined;
  const mask = scanIpv4(s, ip.end + 1);
  if (mask !== undefined) {
    const plen = ipv4PrefixLength(mask.value);
    return mask.end === s.length && plen !== undefined ? { family: 4, addr: ip.value, plen } : undefined;
  }
  const n = scanInt(s, ip.end + 1);
  if (n === undefined || n.end !== s.length || n.value < 0 || n.value > 32) return undefined;
  return { family: 4, addr: ip.value, plen: n.value };
}

const V6_CHARS = /[0-9a-fA-F:.]/;

/** RFC 4291 text as inet_pton(3) takes it (a trailing dotted quad without leading zeros). */
export function parseIpv6Strict(s: string): bigint | undefined {
  if (s === '' || !/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  let text = s;
  let tail: number[] = [];
  if (s.includes('.')) {
    const at = s.lastIndexOf(':');
    const quad = s.slice(at + 1).split('.');
    if (quad.length !== 4 || !quad.every((q) => /^(0|[1-9]\d{0,2})$/.test(q) && Number(q) <= 255)) return undefined;
    const b = quad.map(Number) as [number, number, number, number];
    tail = [b[0] * 256 + b[1], b[2] * 256 + b[3]];
    text = s.slice(0, at + 1);
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1);
    else if (text.endsWith('::')) text = text.slice(0, -2) + '::';
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const parts = h.split(':');
    if (!parts.every((p) => /^[0-9a-fA-F]{1,4}$/.test(p))) return undefined;
    return parts.map((p) => parseInt(p, 16));
  };
  const head = groups(halves[0] as string);
  const rest = halves.length === 2 ? groups(halves[1] as string) : [];
  if (head === undefined || rest === undefined) return undefined;
  const known = head.length + rest.length + tail.length;
  let all: number[];
  if (halves.length === 2) {
    if (known > 7) return undefined;
    all = [...head, ...new Array<number>(8 - known).fill(0), ...rest, ...tail];
  } else {
    if (known !== 8) return undefined;
    all = [...head, ...tail];
  }
  return all.reduce((v, g) => (v << 16n) | BigInt(g), 0n);
}

function scanIpv6(s: string, i: number): Scanned<bigint> | undefined {
  let j = i;
  while (isBlank(s[j])) j++;
  const start = j;
  // At most INET6_ADDRSTRLEN - 1 characters of the address alphabet.
  while (j < s.length && j - start < 46 && V6_CHARS.test(s[j] as string)) j++;
  if (j === start) return undefined;
  const v = parseIpv6Strict(s.slice(start, j));
  return v === undefined ? undefined : { value: v, end: j };
}

function ipv6PrefixLength(mask: bigint): number | undefined {
  for (let n = 0; n <= 128; n++) {
    if ((n === 0 ? 0n : ((1n << BigInt(n)) - 1n) << BigInt(128 - n)) === mask) return n;
  }
  return undefined;
}

/** An IPv6 address with an optional `/plen` or `/mask` (a CIDR mask), the whole string. */
export function parseIpv6Cidr(s: string): IpNetwork | undefined {
  const ip = scanIpv6(s, 0);
  if (ip === undefined) return undefined;
  if (ip.end === s.length) return { family: 6, addr: ip.value, plen: 128 };
  if (s[ip.end] !== '/') return undefined;
  const n = scanInt(s, ip.end + 1);
  if (n !== undefined && n.end === s.length) return n.value < 0 || n.value > 128 ? undefined : { family: 6, addr: ip.value, plen: n.value };
  const mask = scanIpv6(s, ip.end + 1);
  if (mask === undefined || mask.end !== s.length) return undefined;
  const plen = ipv6PrefixLength(mask.value);
  return plen === undefined ? undefined : { family: 6, addr: ip.value, plen };
}

/** A network as lrp-add takes one: IPv4 or IPv6, with an optional CIDR length or mask. */
export function parseNetwork(s: string): IpNetwork | undefined {
  return parseIpv4Cidr(s) ?? parseIpv6Cidr(s);
}

/**
 * An lsp-set-addresses "dynamic" form: `dynamic`, `dynamic IP` (the IPv4 read as
 * four `%hhu`, anything after it ignored), `dynamic IPV6` or `dynamic IP IPV6`, or
 * `MAC dynamic`.
 */
export function isDynamicAddress(a: string): boolean {
  if (a === 'dynamic') return true;
  if (a.startsWith('dynamic ')) {
    const rest = 'dynamic '.length;
    if (scanIpv4(a, rest) !== undefined) return true;
    const v6 = /^[0-9a-fA-F:.]{1,46}/.exec(a.slice(rest));
    return v6 !== null && v6[0].length === a.length - rest && parseIpv6Strict(v6[0]) !== undefined;
  }
  const mac = scanMac(a);
  return mac !== undefined && a.slice(mac.end) === ' dynamic';
}
