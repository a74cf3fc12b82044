/**
 * `check_in_port_sec()` / `check_out_port_sec()` as OVN 23.03 evaluates them
 * from Port_Binding.port_security (ovn-sb(5) Port_Binding; ovn-nb(5)
 * Logical_Switch_Port port_security): 1 when the packet violates the port's
 * security, 0 when it passes or the port has none.
 */
import { parseIpv4, parseIpv6, parseMac } from '../lib/lflow/index.js';
import type { TracePacket } from './packet.js';

interface Entry {
  readonly mac: bigint;
  readonly ip4: readonly { readonly addr: bigint; readonly plen: number }[];
  readonly ip6: readonly { readonly addr: bigint; readonly plen: number }[];
}

/** Parses `MAC [IP[/PLEN]...]` entries; malformed entries are ignored, as northd ignores them. */
export function parsePortSecurity(entries: readonly string[]): Entry[] {
  const out: Entry[] = [];
  for (const e of entries) {
    const [macText, ...ips] = e.trim().split(/\s+/);
    const mac = macText === undefined ? undefined : parseMac(macText);
    if (mac === undefined) continue;
    const ip4: { addr: bigint; plen: number }[] = [];
    const ip6: { addr: bigint; plen: number }[] = [];
    for (const ip of ips) {
      const [a, p] = ip.split('/');
      const v4 = parseIpv4(a ?? '');
      if (v4 !== undefined) ip4.push({ addr: v4, plen: p === undefined ? 32 : Number(p) });
      else {
        const v6 = parseIpv6(a ?? '');
        if (v6 !== undefined) ip6.push({ addr: v6, plen: p === undefined ? 128 : Number(p) });
      }
    }
    out.push({ mac, ip4, ip6 });
  }
  return out;
}

const int = (p: TracePacket, f: string): bigint => {
  const v = p.get(f);
  return typeof v === 'bigint' ? v : 0n;
};

function inNet(v: bigint, a: { addr: bigint; plen: number }, width: number): boolean {
  const host = width - a.plen;
  const netMask = ((1n << BigInt(width)) - 1n) ^ ((1n << BigInt(host)) - 1n);
  // "10.0.0.5/24" names one address; "10.0.0.0/24" (host part zero) a whole subnet.
  if ((a.addr & ~netMask & ((1n << BigInt(width)) - 1n)) !== 0n) return v === a.addr;
  return (v & netMask) === (a.addr & netMask);
}

function isBroadcastOf(v: bigint, a: { addr: bigint; plen: number }): boolean {
  if (a.plen >= 31) return false;
  const hostMask = (1n << BigInt(32 - a.plen)) - 1n;
  return v === (a.addr | hostMask);
}

/** The EUI-64 link-local address of a MAC (fe80::/64). */
function linkLocal(mac: bigint): bigint {
  const b = (i: number): bigint => (mac >> BigInt(8 * (5 - i))) & 0xffn;
  const iid = ((b(0) ^ 2n) << 56n) | (b(1) << 48n) | (b(2) << 40n) | (0xffn << 32n) | (0xfen << 24n) | (b(3) << 16n) | (b(4) << 8n) | b(5);
  return (0xfe80n << 112n) | iid;
}

/** check_in_port_sec(): the source side (inport's port_security). */
export function checkInPortSec(entries: readonly string[], p: TracePacket): 0n | 1n {
  const list = parsePortSecurity(entries);
  if (list.length === 0) return 0n;
  const e = list.find((x) => x.mac === int(p, 'eth.src'));
  if (e === undefined) return 1n;
  const ethType = int(p, 'eth.type');
  if (ethType === 0x806n) {
    if (int(p, 'arp.sha') !== e.mac) return 1n;
    if (e.ip4.length === 0 && e.ip6.length === 0) return 0n;
    return e.ip4.some((a) => inNet(int(p, 'arp.spa'), a, 32)) ? 0n : 1n;
  }
  if (ethType === 0x800n) {
    if (e.ip4.length === 0 && e.ip6.length === 0) return 0n;
    const src = int(p, 'ip4.src');
    if (e.ip4.some((a) => inNet(src, a, 32))) return 0n;
    // A DHCP client has no address yet.
    const dhcp =
      src === 0n &&
      int(p, 'ip4.dst') === 0xffffffffn &&
      int(p, 'ip.proto') === 17n &&
      int(p, 'udp.src') === 68n &&
      int(p, 'udp.dst') === 67n;
    return dhcp ? 0n : 1n;
  }
  if (ethType === 0x86ddn) {
    if (e.ip4.length === 0 && e.ip6.length === 0) return 0n;
    const src = int(p, 'ip6.src');
    if (src === 0n || src === linkLocal(e.mac) || e.ip6.some((a) => inNet(src, a, 128))) return 0n;
    return 1n;
  }
  return 0n;
}

/** check_out_port_sec(): the destination side (outport's port_security). */
export function checkOutPortSec(entries: readonly string[], p: TracePacket): 0n | 1n {
  const list = parsePortSecurity(entries);
  if (list.length === 0) return 0n;
  const dst = int(p, 'eth.dst');
  const e = list.find((x) => x.mac === dst);
  if (e === undefined) return (dst & (1n << 40n)) !== 0n ? 0n : 1n;
  if (e.ip4.length === 0 && e.ip6.length === 0) return 0n;
  const ethType = int(p, 'eth.type');
  if (ethType === 0x800n) {
    const d = int(p, 'ip4.dst');
    if (d === 0xffffffffn || d >> 28n === 0xen) return 0n;
    return e.ip4.some((a) => inNet(d, a, 32) || isBroadcastOf(d, a)) ? 0n : 1n;
  }
  if (ethType === 0x86ddn) {
    const d = int(p, 'ip6.dst');
    // Multicast always; the port's link-local address only when it has IPv6 addresses at all.
    if (d >> 120n === 0xffn || (e.ip6.length > 0 && d === linkLocal(e.mac))) return 0n;
    return e.ip6.some((a) => inNet(d, a, 128)) ? 0n : 1n;
  }
  return 0n;
}
