/**
 * The address forms of the NB (ovn-nb(5): Logical_Switch_Port `addresses`,
 * Logical_Router_Port `mac`/`networks`) as the flow builders need them.
 */
import { formatIpv4, formatIpv6, formatMac, parseIpv4, parseIpv6, parseMac } from '../../lib/lflow/index.js';

export interface Ipv4Net {
  /** The address, e.g. `172.16.255.129`. */
  readonly addr: string;
  readonly plen: number;
  /** The network, e.g. `172.16.255.128`. */
  readonly network: string;
  readonly bcast: string;
  readonly mask: string;
}

export interface LspAddresses {
  readonly mac: string;
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
}

const MASK32 = (1n << 32n) - 1n;

export function ipv4Net(text: string): Ipv4Net | undefined {
  const [a, p] = text.split('/');
  const v = parseIpv4(a ?? '');
  const plen = p === undefined ? 32 : Number(p);
  if (v === undefined || !Number.isInteger(plen) || plen < 0 || plen > 32) return undefined;
  const mask = plen === 0 ? 0n : (MASK32 << BigInt(32 - plen)) & MASK32;
  return {
    addr: formatIpv4(v),
    plen,
    network: formatIpv4(v & mask),
    bcast: formatIpv4((v & mask) | (~mask & MASK32)),
    mask: formatIpv4(mask),
  };
}

/** `a.b.c.d` inside `net`. */
export function ipv4InNet(addr: string, net: Ipv4Net): boolean {
  const a = parseIpv4(addr);
  const n = parseIpv4(net.network);
  const m = parseIpv4(net.mask);
  return a !== undefined && n !== undefined && m !== undefined && (a & m) === n;
}

/** One `addresses` entry "MAC [IP...]"; undefined for `router`, `unknown`, `dynamic` and malformed entries. */
export function parseLspAddress(entry: string): LspAddresses | undefined {
  const words = entry.trim().split(/\s+/);
  const mac = parseMac(words[0] ?? '');
  if (mac === undefined) return undefined;
  const ipv4: string[] = [];
  const ipv6: string[] = [];
  for (const w of words.slice(1)) {
    const v4 = parseIpv4(w.split('/')[0] ?? '');
    if (v4 !== undefined) {
      ipv4.push(formatIpv4(v4));
      continue;
    }
    const v6 = parseIpv6(w.split('/')[0] ?? '');
    if (v6 !== undefined) ipv6.push(formatIpv6(v6));
  }
  return { mac: formatMac(mac), ipv4, ipv6 };
}

/** The IPv6 link-local address OVN derives from a router port's MAC (EUI-64). */
export function linkLocal(mac: string): string {
  const m = parseMac(mac) ?? 0n;
  const b = [40n, 32n, 24n, 16n, 8n, 0n].map((s) => (m >> s) & 0xffn);
  const [b0, b1, b2, b3, b4, b5] = b as [bigint, bigint, bigint, bigint, bigint, bigint];
  const iid = ((b0 ^ 2n) << 56n) | (b1 << 48n) | (b2 << 40n) | (0xffn << 32n) | (0xfen << 24n) | (b3 << 16n) | (b4 << 8n) | b5;
  return formatIpv6((0xfe80n << 112n) | iid);
}

/** The solicited-node multicast address of an IPv6 address (RFC 4291 2.7.1). */
export function solicitedNode(addr: string): string {
  const v = parseIpv6(addr) ?? 0n;
  return formatIpv6((0xff02n << 112n) | (1n << (16n + 8n + 8n)) | (0xffn << 24n) | (v & 0xffffffn));
}

export function normalizeMac(mac: string): string | undefined {
  const m = parseMac(mac);
  return m === undefined ? undefined : formatMac(m);
}

export interface Ipv6Net {
  readonly addr: string;
  readonly plen: number;
  /** The prefix, e.g. `fd00:6::`. */
  readonly network: string;
}

const MASK128 = (1n << 128n) - 1n;

/** An IPv6 `addr/plen` (plen defaults to 128). */
export function ipv6Net(text: string): Ipv6Net | undefined {
  const [a, p] = text.split('/');
  const v = parseIpv6(a ?? '');
  const plen = p === undefined ? 128 : Number(p);
  if (v === undefined || !Number.isInteger(plen) || plen < 0 || plen > 128) return undefined;
  const mask = plen === 0 ? 0n : (MASK128 << BigInt(128 - plen)) & MASK128;
  return { addr: formatIpv6(v), plen, network: formatIpv6(v & mask) };
}

/** An IPv6 address inside `net`. */
export function ipv6InNet(addr: string, net: Ipv6Net): boolean {
  const a = parseIpv6(addr);
  const n = parseIpv6(net.network);
  if (a === undefined || n === undefined) return false;
  const mask = net.plen === 0 ? 0n : (MASK128 << BigInt(128 - net.plen)) & MASK128;
  return (a & mask) === n;
}

/**
 * The addresses a switch port owns (ovn-nb(5) Logical_Switch_Port addresses):
 * each "MAC [IP...]" entry, with `dynamic` standing for what northd allocated
 * (dynamic_addresses). `router`, `unknown` and malformed entries own nothing.
 */
export function lspAddresses(lsp: { readonly addresses: readonly string[]; readonly dynamic_addresses: string | null }): LspAddresses[] {
  const out: LspAddresses[] = [];
  for (const entry of lsp.addresses) {
    const text = entry.trim() === 'dynamic' ? lsp.dynamic_addresses : entry;
    const a = text === null ? undefined : parseLspAddress(text);
    if (a !== undefined) out.push(a);
  }
  return out;
}
