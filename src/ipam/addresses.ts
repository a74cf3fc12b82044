/**
 * IPv4/IPv6 arithmetic for subnets, pools and allocation, on BigInt values
 * (parsing and printing by ipaddr.js, so IPv6 text is RFC 5952 canonical as
 * Neutron's netaddr prints it).
 */
import ipaddr from 'ipaddr.js';
import { randomBytes, randomInt } from 'node:crypto';

export type IpVersion = 4 | 6;

export interface Cidr {
  readonly version: IpVersion;
  /** The network address. */
  readonly network: bigint;
  readonly prefix: number;
}

export interface IpRange {
  readonly first: bigint;
  readonly last: bigint;
}

const BITS = { 4: 32, 6: 128 } as const;

/** The address as a number and its version, or undefined for text that is not one address. */
export function parseIp(text: string): { version: IpVersion; value: bigint } | undefined {
  if (typeof text !== 'string' || !ipaddr.isValid(text)) return undefined;
  if (!text.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(text)) return undefined;
  const a = ipaddr.parse(text);
  let v = 0n;
  for (const b of a.toByteArray()) v = (v << 8n) | BigInt(b);
  return { version: a.kind() === 'ipv4' ? 4 : 6, value: v };
}

export function formatIp(version: IpVersion, value: bigint): string {
  const n = version === 4 ? 4 : 16;
  const bytes: number[] = [];
  for (let i = n - 1; i >= 0; i--) bytes.push(Number((value >> BigInt(i * 8)) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

/** Canonical text of an address (IPv6 compressed, lower case), or the input if it is not one. */
export function canonicalIp(text: string): string {
  const p = parseIp(text);
  return p === undefined ? text : formatIp(p.version, p.value);
}

/** `a.b.c.d/n` or `x::/n`, with host bits kept as given (callers check them). */
export function parseCidr(text: string): { cidr: Cidr; hostBitsSet: boolean } | undefined {
  if (typeof text !== 'string') return undefined;
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const ptext = text.slice(slash + 1);
  if (ip === undefined || !/^\d{1,3}$/.test(ptext)) return undefined;
  const prefix = Number(ptext);
  const bits = BITS[ip.version];
  if (prefix > bits) return undefined;
  const mask = hostMask(ip.version, prefix);
  return { cidr: { version: ip.version, network: ip.value & ~mask & allOnes(ip.version), prefix }, hostBitsSet: (ip.value & mask) !== 0n };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.version, c.network)}/${c.prefix}`;
}

function allOnes(v: IpVersion): bigint {
  return (1n << BigInt(BITS[v])) - 1n;
}

function hostMask(v: IpVersion, prefix: number): bigint {
  return (1n << BigInt(BITS[v] - prefix)) - 1n;
}

export function lastAddress(c: Cidr): bigint {
  return c.network | hostMask(c.version, c.prefix);
}

export function cidrContains(c: Cidr, version: IpVersion, value: bigint): boolean {
  return version === c.version && value >= c.network && value <= lastAddress(c);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.version === b.version && a.network <= lastAddress(b) && b.network <= lastAddress(a);
}

/**
 * The default allocation pool as Neutron computes it: the whole subnet less
 * the network address, the IPv4 broadcast address and the gateway
 * (`ipam/utils.py generate_pools`); IPv6 keeps its last address and loses the
 * subnet-router anycast address (the network address).
 */
export function defaultPools(c: Cidr, gateway: bigint | undefined): IpRange[] {
  const bits = BITS[c.version];
  let first = c.network;
  let last = lastAddress(c);
  if (c.version === 4 && c.prefix < bits - 1) {
    first += 1n;
    last -= 1n;
  } else if (c.version === 6 && c.prefix < bits) {
    first += 1n;
  }
  if (gateway === undefined || gateway < first || gateway > last) return [{ first, last }];
  const out: IpRange[] = [];
  if (gateway > first) out.push({ first, last: gateway - 1n });
  if (gateway < last) out.push({ first: gateway + 1n, last });
  return out;
}

/** Neutron's default gateway: the first address after the network address (IPv4 and IPv6 alike). */
export function defaultGateway(c: Cidr): bigint {
  return c.network + 1n;
}

/** A uniformly random address of the ranges that `taken` does not hold; undefined when all are taken. */
export function randomFreeAddress(ranges: readonly IpRange[], taken: ReadonlySet<bigint>): bigint | undefined {
  let total = 0n;
  for (const r of ranges) total += r.last - r.first + 1n;
  if (total === 0n) return undefined;
  // Random probes first (cheap while the pools are sparse), then a scan from a random start.
  for (let i = 0; i < 16; i++) {
    const a = addressAt(ranges, randomBig(total));
    if (!taken.has(a)) return a;
  }
  const start = randomBig(total);
  const limit = total < 1n << 20n ? total : 1n << 20n;
  for (let k = 0n; k < limit; k++) {
    const a = addressAt(ranges, (start + k) % total);
    if (!taken.has(a)) return a;
  }
  return undefined;
}

function addressAt(ranges: readonly IpRange[], index: bigint): bigint {
  let i = index;
  for (const r of ranges) {
    const n = r.last - r.first + 1n;
    if (i < n) return r.first + i;
    i -= n;
  }
  throw new Error('index outside the ranges');
}

function randomBig(below: bigint): bigint {
  if (below <= 0xffffffffffffn) return BigInt(randomInt(0, Number(below)));
  let v = 0n;
  for (const b of randomBytes(24)) v = (v << 8n) | BigInt(b);
  return v % below;
}

/** A MAC with Neutron's default base_mac `fa:16:3e:00:00:00` (the last three octets random). */
export function randomMac(): string {
  const b = randomBytes(3);
  return `fa:16:3e:${[...b].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
}

/** `aa:bb:cc:dd:ee:ff` in lower case (neutron-lib convert_to_sanitized_mac_address), or undefined. */
export function canonicalMac(text: string): string | undefined {
  if (typeof text !== 'string') return undefined;
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{1,2}$/.test(p))) return undefined;
  return parts.map((p) => p.toLowerCase().padStart(2, '0')).join(':');
}
