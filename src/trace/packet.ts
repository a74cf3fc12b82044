/**
 * The packet a trace carries: base-field values of OVN's logical-flow symbol
 * table (ovn-sb(5), "Logical_Flow TABLE", match: "Symbols"), read and written
 * through field references such as `reg0[3]`, `eth.src` or `flags.loopback`.
 */
import { defaultSymbols, formatIpv4, formatIpv6, formatMac, type FieldRef, type SymbolTable } from '../lib/lflow/index.js';

/** Base field name → value (bigint for integer fields, string for `inport`/`outport`). */
export type TracePacket = Map<string, bigint | string>;

interface Slice {
  readonly field: string;
  readonly type: 'integer' | 'string';
  readonly lo: number;
  readonly width: number;
}

function slice(ref: FieldRef, symbols: SymbolTable): Slice {
  const st = symbols.resolveStorage(ref.name);
  if (st === undefined) throw new Error(`${ref.name} is not a field`);
  if (st.field.type === 'string') return { field: st.field.name, type: 'string', lo: 0, width: 0 };
  if (ref.lo === undefined) return { field: st.field.name, type: 'integer', lo: st.lo, width: st.width };
  const hi = ref.hi ?? ref.lo;
  return { field: st.field.name, type: 'integer', lo: st.lo + ref.lo, width: hi - ref.lo + 1 };
}

/** The value of a field reference (a string for string fields). */
export function readField(p: TracePacket, ref: FieldRef, symbols: SymbolTable = defaultSymbols()): bigint | string {
  const s = slice(ref, symbols);
  const v = p.get(s.field);
  if (s.type === 'string') return typeof v === 'string' ? v : '';
  const whole = typeof v === 'bigint' ? v : 0n;
  return (whole >> BigInt(s.lo)) & ((1n << BigInt(s.width)) - 1n);
}

/** Stores `value` into a field reference (truncated to its width). */
export function writeField(p: TracePacket, ref: FieldRef, value: bigint | string, symbols: SymbolTable = defaultSymbols()): void {
  const s = slice(ref, symbols);
  if (s.type === 'string') {
    p.set(s.field, String(value));
    return;
  }
  const v = typeof value === 'bigint' ? value : 0n;
  const prev = p.get(s.field);
  const whole = typeof prev === 'bigint' ? prev : 0n;
  const mask = ((1n << BigInt(s.width)) - 1n) << BigInt(s.lo);
  p.set(s.field, (whole & ~mask) | ((v << BigInt(s.lo)) & mask));
}

/** Base fields that are pipeline metadata rather than packet headers (ovn-trace shows no "modify" for them). */
const METADATA = new Set(['inport', 'outport', 'xxreg0', 'xxreg1', 'xreg4', 'flags', 'pkt.mark', 'ct_mark', 'ct_label', 'ct_state']);

/** True when a reference names pipeline metadata (registers, flags, ports, conntrack). */
export function isMetadata(ref: FieldRef, symbols: SymbolTable = defaultSymbols()): boolean {
  const st = symbols.resolveStorage(ref.name);
  return st === undefined || METADATA.has(st.field.name);
}

const MAC_FIELDS = new Set(['eth.src', 'eth.dst', 'arp.sha', 'arp.tha', 'rarp.sha', 'rarp.tha', 'nd.sll', 'nd.tll']);
const IPV4_FIELDS = new Set(['ip4.src', 'ip4.dst', 'arp.spa', 'arp.tpa', 'rarp.spa', 'rarp.tpa']);
const IPV6_FIELDS = new Set(['ip6.src', 'ip6.dst', 'nd.target']);

/**
 * A field's value in its usual notation: MAC, dotted quad, IPv6, or a quoted
 * string; other values in decimal, or in hex when `hexOther` (how ovn-trace
 * shows a value copied out of a register or a bit range).
 */
export function formatFieldValue(ref: FieldRef, v: bigint | string, hexOther = false): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (ref.lo === undefined) {
    if (MAC_FIELDS.has(ref.name)) return formatMac(v);
    if (IPV4_FIELDS.has(ref.name)) return formatIpv4(v);
    if (IPV6_FIELDS.has(ref.name)) return formatIpv6(v);
  }
  return hexOther ? `0x${v.toString(16)}` : v.toString();
}

/** A copy that can be changed without touching the original (clone, multicast branches). */
export function clonePacket(p: TracePacket): TracePacket {
  return new Map(p);
}
