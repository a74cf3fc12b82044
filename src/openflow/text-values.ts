/**
 * The value spellings of the ovs-ofctl syntax (ovs-ofctl(8) "Flow Syntax",
 * ovs-fields(7) "Field Formats", ovs-actions(7) "Field Specifications"):
 * ports, numbers, addresses, hex bytes, field references and the argument
 * splitting, shared by the match printer/parser (flow-text.ts) and every
 * action's entry in the action table (action-table.ts).
 */
import { type FieldRef, FlowModelError, OFPP, fieldBits, fieldInfo } from './flow.js';
import { anyField, fieldByRefName } from './fields.js';
import {
  formatIpv4,
  formatIpv6,
  formatMac,
  parseIpv4 as parseIpv4Text,
  parseIpv6 as parseIpv6Text,
  parseMac as parseMacText,
} from '../lib/address-text.js';

export { formatIpv4, formatIpv6, formatMac };

/** Reserved ports by the names ovs-ofctl reads and prints. */
export const PORT_NAMES: Readonly<Record<string, number>> = {
  IN_PORT: OFPP.IN_PORT,
  TABLE: OFPP.TABLE,
  NORMAL: OFPP.NORMAL,
  FLOOD: OFPP.FLOOD,
  ALL: OFPP.ALL,
  CONTROLLER: OFPP.CONTROLLER,
  LOCAL: OFPP.LOCAL,
  ANY: OFPP.ANY,
  NONE: OFPP.ANY,
  UNSET: OFPP.UNSET,
};

/** A port as ovs-ofctl prints it: reserved ports by name. */
export function formatPort(p: number): string {
  for (const [k, v] of Object.entries(PORT_NAMES)) if (v === p && k !== 'NONE') return k;
  return String(p);
}

export function parsePort(s: string): number {
  const named = PORT_NAMES[s.toUpperCase()];
  if (named !== undefined) return named;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new FlowModelError(`${s}: bad port`);
  return n >= 0xff00 && n <= 0xffff ? n + 0xffff0000 : n;
}

/** A decimal or `0x` hexadecimal number. */
export function parseNumber(s: string): bigint {
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(s)) throw new FlowModelError(`${s}: bad number`);
  return BigInt(s);
}

/** `0x1f`, and `0` for zero, as OVS's `%#x` prints it. */
export function hex(v: bigint): string {
  return v === 0n ? '0' : `0x${v.toString(16)}`;
}

/** The address text forms are the logical-flow language's (inet_ntop's for IPv6, as OVS prints them); here a bad one is a model error. */
function addr(parse: (s: string) => bigint | undefined, what: string): (s: string) => bigint {
  return (s) => {
    const v = parse(s);
    if (v === undefined) throw new FlowModelError(`${s}: bad ${what} address`);
    return v;
  };
}
export const parseMac = addr(parseMacText, 'Ethernet');
export const parseIpv4 = addr(parseIpv4Text, 'IPv4');
export const parseIpv6 = addr(parseIpv6Text, 'IPv6');

/** Bytes as `note:` and `userdata=` print them: hex pairs joined by dots. */
export function formatBytes(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('.');
}
export function parseBytes(s: string): Uint8Array {
  const clean = s.replace(/\./g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new FlowModelError(`${s}: bad hex bytes`);
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

/** `value/mask` → [value, mask]; no slash: no mask. */
export function splitMask(s: string): [string, string | undefined] {
  const i = s.indexOf('/');
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

/** Splits on commas outside parentheses and brackets. */
export function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

const ALIASES: Readonly<Record<string, string>> = {
  eth_src: 'dl_src',
  eth_dst: 'dl_dst',
  eth_type: 'dl_type',
  ip_src: 'nw_src',
  ip_dst: 'nw_dst',
  ip_proto: 'nw_proto',
  ipv4_src: 'nw_src',
  ipv4_dst: 'nw_dst',
  tun_ipv4_src: 'tun_src',
  tun_ipv4_dst: 'tun_dst',
  icmpv4_type: 'icmp_type',
  icmpv4_code: 'icmp_code',
  ip_ttl: 'nw_ttl',
  nw_frag: 'ip_frag',
};

/** The model's name for a field OVS also spells another way (`eth_src` → dl_src). */
export function aliasOf(name: string): string {
  return ALIASES[name] ?? name;
}

/** The reference name of a field (`NXM_OF_ETH_SRC` for dl_src; `in_port` is NXM_OF_IN_PORT, `in_port_oxm` OXM_OF_IN_PORT). */
function nxmName(field: string): string {
  return anyField(field)?.refName ?? field;
}
/** The field a reference names: an NXM/OXM name, or a field name (any OVS spelling). */
function fieldOfName(name: string): string {
  return fieldByRefName(name)?.name ?? aliasOf(name);
}

/** `NXM_NX_REG13[0..15]`-style reference (whole field: `[]`, one bit: `[n]`). */
export function formatFieldRef(r: FieldRef): string {
  const bits = fieldBits(r.field);
  const range = r.ofs === 0 && r.nBits === bits ? '' : r.nBits === 1 ? String(r.ofs) : `${r.ofs}..${r.ofs + r.nBits - 1}`;
  return `${nxmName(r.field)}[${range}]`;
}
export function parseFieldRef(s: string): FieldRef {
  const m = /^([A-Za-z0-9_]+)\[(?:(\d+)(?:\.\.(\d+))?)?\]$/.exec(s.trim());
  if (m === null) throw new FlowModelError(`${s}: bad field reference`);
  const field = fieldOfName(m[1] ?? '');
  const bits = fieldBits(field);
  if (m[2] === undefined) return { field, ofs: 0, nBits: bits };
  const lo = Number(m[2]);
  const hi = m[3] === undefined ? lo : Number(m[3]);
  if (hi < lo || hi >= bits) throw new FlowModelError(`${s}: bit range outside the ${bits}-bit field`);
  return { field, ofs: lo, nBits: hi - lo + 1 };
}

/** A value written to `field` (set_field, learn) in the field's own format. */
export function formatValueFor(field: string, v: bigint): string {
  const info = fieldInfo(field);
  if (info?.format === 'ethernet') return formatMac(v);
  if (info?.format === 'ipv4') return formatIpv4(v);
  if (info?.format === 'ipv6') return formatIpv6(v);
  if (info?.format === 'port' || field === 'in_port_oxm') return formatPort(Number(v));
  if (field === 'vlan_vid' || field === 'vlan_pcp' || info?.format === 'decimal') return String(v);
  return hex(v);
}

export function parseValueFor(field: string, s: string): bigint {
  const info = fieldInfo(aliasOf(field));
  if (info?.format === 'ethernet' && s.includes(':')) return parseMac(s);
  if (info?.format === 'ipv4' && s.includes('.')) return parseIpv4(s);
  if (info?.format === 'ipv6' && s.includes(':')) return parseIpv6(s);
  if (info?.format === 'port' || field === 'in_port_oxm') return BigInt(parsePort(s));
  return parseNumber(s);
}
