/**
 * The ovs-ofctl flow syntax for the structured model (ovs-ofctl(8) "Flow
 * Syntax", ovs-fields(7), ovs-actions(7)): a printer whose output
 * `ovs-ofctl add-flow` accepts, and a parser for what `ovs-ofctl dump-flows`
 * prints (and for the same syntax written by hand), for the fields and
 * actions in flow.ts.
 */
import {
  type Action,
  type Bucket,
  type Flow,
  type GroupMod,
  OFPGT,
  type Match,
  type MatchField,
  FlowModelError,
  OFPFF,
  fieldInfo,
  matchField,
  normalizeMatch,
  ones,
} from './flow.js';
import type { TextContext } from './action-entry.js';
import { ACTIONS } from './action-table.js';
import {
  aliasOf,
  formatIpv4,
  formatIpv6,
  formatMac,
  formatPort,
  hex,
  parseIpv4,
  parseIpv6,
  parseMac,
  parseNumber,
  parsePort,
  splitMask,
  splitTop,
} from './text-values.js';

export { formatFieldRef, formatPort, parseFieldRef } from './text-values.js';

// ---------------------------------------------------------------- values

const CT_STATE_FLAGS: [string, bigint][] = [
  ['new', 0x01n],
  ['est', 0x02n],
  ['rel', 0x04n],
  ['rpl', 0x08n],
  ['inv', 0x10n],
  ['trk', 0x20n],
  ['snat', 0x40n],
  ['dnat', 0x80n],
];
const TCP_FLAGS: [string, bigint][] = [
  ['fin', 0x001n],
  ['syn', 0x002n],
  ['rst', 0x004n],
  ['psh', 0x008n],
  ['ack', 0x010n],
  ['urg', 0x020n],
  ['ece', 0x040n],
  ['cwr', 0x080n],
  ['ns', 0x100n],
];
const FRAG: [string, bigint, bigint][] = [
  ['no', 0n, 1n],
  ['yes', 1n, 1n],
  ['first', 1n, 3n],
  ['later', 3n, 3n],
  ['not_later', 0n, 2n],
];

function formatFlags(table: [string, bigint][], v: bigint, m: bigint): string {
  let out = '';
  for (const [name, bit] of table) if ((m & bit) !== 0n) out += `${(v & bit) !== 0n ? '+' : '-'}${name}`;
  return out;
}
function parseFlags(table: [string, bigint][], s: string): { value: bigint; mask: bigint } {
  let value = 0n;
  let mask = 0n;
  const re = /([+-])([a-z_]+)/g;
  let consumed = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    const hit = table.find(([n]) => n === m[2]);
    if (hit === undefined) throw new FlowModelError(`${m[2]}: unknown flag`);
    mask |= hit[1];
    if (m[1] === '+') value |= hit[1];
    consumed += m[0].length;
  }
  if (consumed !== s.length) throw new FlowModelError(`${s}: bad flags`);
  return { value, mask };
}

/** `field=value[/mask]` as ovs-ofctl prints it. */
export function formatMatchField(x: MatchField): string {
  const info = fieldInfo(x.field);
  if (info === undefined) throw new FlowModelError(`${x.field}: unknown field`);
  const m = x.mask;
  const all = ones(info.bits);
  switch (info.format) {
    case 'ethernet':
      return `${x.field}=${formatMac(x.value)}${m === undefined ? '' : `/${formatMac(m)}`}`;
    case 'ipv4':
    case 'ipv6': {
      const fmt = info.format === 'ipv4' ? formatIpv4 : formatIpv6;
      if (m === undefined) return `${x.field}=${fmt(x.value)}`;
      const inv = all ^ m;
      const prefix = (inv & (inv + 1n)) === 0n ? info.bits - inv.toString(2).replace(/^0+/, '').length * (inv === 0n ? 0 : 1) : -1;
      return `${x.field}=${fmt(x.value)}/${prefix >= 0 ? prefix : fmt(m)}`;
    }
    case 'port':
      return `${x.field}=${formatPort(Number(x.value))}`;
    case 'ct_state':
      return `${x.field}=${formatFlags(CT_STATE_FLAGS, x.value, m ?? all)}`;
    case 'tcp_flags':
      return `${x.field}=${formatFlags(TCP_FLAGS, x.value, m ?? all)}`;
    case 'frag': {
      const f = FRAG.find(([, v, mm]) => v === x.value && mm === (m ?? all));
      return f !== undefined ? `nw_frag=${f[0]}` : `nw_frag=${hex(x.value)}${m === undefined ? '' : `/${hex(m)}`}`;
    }
    case 'decimal':
      // Masked, OVS prints both in hex.
      return m === undefined ? `${x.field}=${x.value}` : `${x.field}=${hex(x.value)}/${hex(m)}`;
    default:
      return `${x.field}=${hex(x.value)}${m === undefined ? '' : `/${hex(m)}`}`;
  }
}

const PROTO_NAMES: [string, bigint, bigint | undefined][] = [
  ['ip', 0x0800n, undefined],
  ['tcp', 0x0800n, 6n],
  ['udp', 0x0800n, 17n],
  ['icmp', 0x0800n, 1n],
  ['sctp', 0x0800n, 132n],
  ['ipv6', 0x86ddn, undefined],
  ['tcp6', 0x86ddn, 6n],
  ['udp6', 0x86ddn, 17n],
  ['icmp6', 0x86ddn, 58n],
  ['sctp6', 0x86ddn, 132n],
  ['arp', 0x0806n, undefined],
  ['rarp', 0x8035n, undefined],
  ['mpls', 0x8847n, undefined],
  ['mplsm', 0x8848n, undefined],
];

/**
 * The order ovs-ofctl prints match fields in (OVS's match_format, checked
 * with `ovs-ofctl parse-flow`): packet mark, recirculation and conjunction
 * ids and conntrack, then the protocol shorthand, registers, tunnel,
 * datapath, port, L2, L3, L4. Fields not listed follow.
 */
const PRINT_BEFORE_PROTO = [
  'pkt_mark',
  'recirc_id',
  'dp_hash',
  'conj_id',
  'skb_priority',
  'actset_output',
  'ct_state',
  'ct_zone',
  'ct_mark',
  'ct_label',
  'ct_nw_src',
  'ct_nw_dst',
  'ct_ipv6_src',
  'ct_ipv6_dst',
  'ct_nw_proto',
  'ct_tp_src',
  'ct_tp_dst',
];
const PRINT_AFTER_PROTO = [
  ...Array.from({ length: 16 }, (_, i) => `reg${i}`),
  'tun_id',
  'tun_src',
  'tun_dst',
  'tun_ipv6_src',
  'tun_ipv6_dst',
  'tun_flags',
  ...Array.from({ length: 64 }, (_, i) => `tun_metadata${i}`),
  'metadata',
  'in_port',
  'vlan_tci',
  'dl_src',
  'dl_dst',
  'dl_type',
  'mpls_label',
  'ipv6_src',
  'ipv6_dst',
  'ipv6_label',
  'nw_src',
  'nw_dst',
  'arp_spa',
  'arp_tpa',
  'nw_proto',
  'arp_op',
  'arp_sha',
  'arp_tha',
  'nw_tos',
  'nw_ecn',
  'nw_ttl',
  'ip_frag',
  'icmp_type',
  'icmp_code',
  'icmpv6_type',
  'icmpv6_code',
  'tcp_src',
  'tcp_dst',
  'udp_src',
  'udp_dst',
  'sctp_src',
  'sctp_dst',
  'tcp_flags',
  'nd_target',
  'nd_sll',
  'nd_tll',
];
const PRINT_RANK: ReadonlyMap<string, number> = new Map([...PRINT_BEFORE_PROTO, ...PRINT_AFTER_PROTO].map((n, i) => [n, i]));
const rankOf = (x: MatchField): number => PRINT_RANK.get(x.field) ?? PRINT_RANK.size;

/** Names ovs-ofctl prints for L4 fields once the protocol is known (`tcp,tp_dst=80`, `icmp6,icmp_type=135`). */
const L4_PRINT_NAME: Readonly<Record<string, string>> = {
  tcp_src: 'tp_src',
  tcp_dst: 'tp_dst',
  udp_src: 'tp_src',
  udp_dst: 'tp_dst',
  sctp_src: 'tp_src',
  sctp_dst: 'tp_dst',
  icmpv6_type: 'icmp_type',
  icmpv6_code: 'icmp_code',
};

/** A match in ovs-ofctl syntax, with `ip`/`tcp`/`arp`... shorthands and `dl_vlan` where they apply, in OVS's order. */
export function formatMatch(match: Match): string {
  const parts: string[] = [];
  const fields = normalizeMatch(match);
  const before = fields.filter((x) => PRINT_BEFORE_PROTO.includes(x.field)).sort((a, b) => rankOf(a) - rankOf(b));
  for (const x of before) parts.push(formatMatchField(x));
  let rest = fields.filter((x) => !PRINT_BEFORE_PROTO.includes(x.field)).sort((a, b) => rankOf(a) - rankOf(b));
  const dlType = rest.find((x) => x.field === 'dl_type' && x.mask === undefined);
  const proto = rest.find((x) => x.field === 'nw_proto' && x.mask === undefined);
  if (dlType !== undefined) {
    const withProto = proto === undefined ? undefined : PROTO_NAMES.find(([, t, p]) => t === dlType.value && p === proto.value);
    const plain = PROTO_NAMES.find(([, t, p]) => t === dlType.value && p === undefined);
    if (withProto !== undefined) {
      parts.push(withProto[0]);
      rest = rest.filter((x) => x !== dlType && x !== proto);
    } else if (plain !== undefined) {
      parts.push(plain[0]);
      rest = rest.filter((x) => x !== dlType);
    }
  }
  for (const x of rest) {
    if (x.field === 'ipv6_label' && x.mask === undefined) {
      parts.push(`ipv6_label=0x${x.value.toString(16).padStart(5, '0')}`);
      continue;
    }
    if (x.field === 'vlan_tci') {
      if (x.mask === 0x1fffn && (x.value & 0x1000n) !== 0n) parts.push(`dl_vlan=${x.value & 0xfffn}`);
      else if (x.mask === 0xf000n && (x.value & 0x1000n) !== 0n) parts.push(`dl_vlan_pcp=${x.value >> 13n}`);
      else if (x.mask === undefined && (x.value & 0x1000n) !== 0n) parts.push(`dl_vlan=${x.value & 0xfffn},dl_vlan_pcp=${x.value >> 13n}`);
      else parts.push(`vlan_tci=${pad4(x.value)}${x.mask === undefined ? '' : `/${pad4(x.mask)}`}`);
      continue;
    }
    const l4 = L4_PRINT_NAME[x.field];
    const text = formatMatchField(x);
    parts.push(l4 === undefined ? text : l4 + text.slice(x.field.length));
  }
  return parts.join(',');
}

/** vlan_tci as OVS prints it: four hex digits. */
function pad4(v: bigint): string {
  return `0x${v.toString(16).padStart(4, '0')}`;
}

/** Parses `value[/mask]` of `name` (any OVS spelling) into canonical fields. */
export function parseMatchField(name: string, text: string): MatchField[] {
  if (name === 'nw_frag' || name === 'ip_frag') {
    const f = FRAG.find(([n]) => n === text);
    if (f !== undefined) return [{ field: 'ip_frag', value: f[1], mask: f[2] }];
  }
  if (name === 'tp_src' || name === 'tp_dst') throw new FlowModelError(`${name}: write tcp_/udp_/sctp_ instead`);
  const canonicalName =
    name === 'ip_dscp' ||
    name === 'vlan_pcp' ||
    name === 'dl_vlan_pcp' ||
    name === 'dl_vlan' ||
    name === 'vlan_vid' ||
    /^x?xreg\d$/.test(name) ||
    name === 'ip_ecn' ||
    name === 'nw_frag'
      ? undefined
      : name;
  const info = canonicalName === undefined ? undefined : fieldInfo(aliasOf(canonicalName));
  const [vs, ms] = splitMask(text);
  if (info !== undefined) {
    const fname = info.name;
    switch (info.format) {
      case 'ethernet':
        return matchField(fname, parseMac(vs), ms === undefined ? undefined : parseMac(ms));
      case 'ipv4':
      case 'ipv6': {
        const p = info.format === 'ipv4' ? parseIpv4 : parseIpv6;
        const v = p(vs);
        if (ms === undefined) return matchField(fname, v);
        const mask = /^\d+$/.test(ms) ? (Number(ms) === 0 ? 0n : ones(Number(ms)) << BigInt(info.bits - Number(ms))) : p(ms);
        if (mask === 0n) return [];
        return matchField(fname, v & mask, mask);
      }
      case 'port':
        return [{ field: fname, value: BigInt(parsePort(text)) }];
      case 'ct_state':
      case 'tcp_flags':
        if (/^[+-]/.test(text)) {
          const { value, mask } = parseFlags(info.format === 'ct_state' ? CT_STATE_FLAGS : TCP_FLAGS, text);
          return matchField(fname, value, mask);
        }
        break;
      default:
        break;
    }
    return matchField(fname, parseNumber(vs), ms === undefined ? undefined : parseNumber(ms));
  }
  return matchField(name, parseNumber(vs), ms === undefined ? undefined : parseNumber(ms));
}

// ---------------------------------------------------------------- actions

/** Each spelling of the table's text forms, by name; two entries claiming one spelling is a bug caught at load. */
function formsBy<F>(
  pick: (forms: (typeof ACTIONS)[keyof typeof ACTIONS]['parse']) => Readonly<Record<string, F>> | undefined,
): ReadonlyMap<string, F> {
  const m = new Map<string, F>();
  for (const entry of Object.values(ACTIONS)) {
    for (const [name, parse] of Object.entries(pick(entry.parse) ?? {})) {
      if (m.has(name)) throw new Error(`action table: two entries parse ${name}`);
      m.set(name, parse);
    }
  }
  return m;
}
const WORDS = formsBy((p) => p.word);
const COLONS = formsBy((p) => p.colon);
const CALLS = formsBy((p) => p.call);
const ARROWS = formsBy((p) => p.arrow);

const TEXT: TextContext = { formatList: formatActions, parseList: parseActions };

/** One action in ovs-ofctl syntax. */
export function formatAction<K extends Action['type']>(a: Extract<Action, { readonly type: K }>): string {
  return (ACTIONS[a.type] as { format(a: Extract<Action, { readonly type: K }>, cx: TextContext): string }).format(a, TEXT);
}

/** An action list in ovs-ofctl syntax; the empty list is `drop`. */
export function formatActions(actions: readonly Action[]): string {
  return actions.length === 0 ? 'drop' : actions.map(formatAction).join(',');
}

/**
 * One action from ovs-ofctl syntax: `name`, `name:arg`, `name(body)` or
 * `name(body)->tail`, looked up in the action table; a bare port number is
 * `output:N`.
 */
export function parseAction(s: string): Action {
  const t = s.trim();
  if (t === 'drop') throw new FlowModelError('drop must be the only action');
  const m = /^([A-Za-z_0-9]+)(.*)$/s.exec(t);
  const name = m?.[1] ?? '';
  const rest = m?.[2] ?? '';
  let a: Action | undefined;
  const arrow = /^\(([^)]*)\)->(.+)$/s.exec(rest);
  if (rest === '') a = /^\d+$/.test(name) ? COLONS.get('output')?.(name) : WORDS.get(name)?.();
  else if (rest.startsWith(':')) a = COLONS.get(name)?.(rest.slice(1));
  else if (arrow !== null) a = ARROWS.get(name)?.(arrow[1] ?? '', arrow[2] ?? '');
  if (a === undefined && rest.startsWith('(') && rest.endsWith(')')) a = CALLS.get(name)?.(rest.slice(1, -1), TEXT);
  if (a === undefined) throw new FlowModelError(`${t}: unknown action`);
  return a;
}

/** An action list (`drop` or empty: no actions). */
export function parseActions(s: string): Action[] {
  const t = s.trim();
  if (t === '' || t === 'drop') return [];
  return splitTop(t).map(parseAction);
}

// ---------------------------------------------------------------- flows

const FLAG_NAMES: [string, number][] = [
  ['send_flow_rem', OFPFF.SEND_FLOW_REM],
  ['check_overlap', OFPFF.CHECK_OVERLAP],
  ['reset_counts', OFPFF.RESET_COUNTS],
  ['no_packet_counts', OFPFF.NO_PKT_COUNTS],
  ['no_byte_counts', OFPFF.NO_BYT_COUNTS],
];

/** A flow in `ovs-ofctl add-flow` syntax. */
export function formatFlow(f: Flow): string {
  const parts = [`table=${f.table}`, `priority=${f.priority}`];
  if (f.cookie !== 0n) parts.unshift(`cookie=${hex(f.cookie)}`);
  if (f.idleTimeout !== undefined && f.idleTimeout !== 0) parts.push(`idle_timeout=${f.idleTimeout}`);
  if (f.hardTimeout !== undefined && f.hardTimeout !== 0) parts.push(`hard_timeout=${f.hardTimeout}`);
  if (f.importance !== undefined && f.importance !== 0) parts.push(`importance=${f.importance}`);
  for (const [n, bit] of FLAG_NAMES) if (((f.flags ?? 0) & bit) !== 0) parts.push(n);
  const m = formatMatch(f.match);
  if (m !== '') parts.push(m);
  return `${parts.join(',')} actions=${formatActions(f.actions)}`;
}

const STAT_KEYS = new Set(['duration', 'n_packets', 'n_bytes', 'idle_age', 'hard_age']);

/**
 * A flow from one `ovs-ofctl dump-flows` line (statistics ignored) or from
 * `add-flow` syntax. Throws {@link FlowModelError} on anything it does not know.
 */
export function parseFlow(line: string): Flow {
  const i = line.indexOf('actions=');
  if (i < 0) throw new FlowModelError(`${line.trim()}: no actions`);
  const head = line.slice(0, i).trim().replace(/,$/, '');
  const actions = parseActions(line.slice(i + 'actions='.length));
  let table = 0;
  let priority = 0x8000;
  let cookie = 0n;
  let flags = 0;
  const extra: { idleTimeout?: number; hardTimeout?: number; importance?: number } = {};
  const fields: MatchField[] = [];
  for (const raw of splitTop(head.replace(/\s+/g, ','))) {
    const p = raw.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    const key = eq < 0 ? p : p.slice(0, eq);
    const val = eq < 0 ? '' : p.slice(eq + 1);
    if (STAT_KEYS.has(key)) continue;
    if (key === 'table') table = Number(val);
    else if (key === 'priority') priority = Number(val);
    else if (key === 'cookie') cookie = parseNumber(val.split('/')[0] ?? '0');
    else if (key === 'idle_timeout') extra.idleTimeout = Number(val);
    else if (key === 'hard_timeout') extra.hardTimeout = Number(val);
    else if (key === 'importance') extra.importance = Number(val);
    else if (eq < 0 && key.startsWith('cookie:')) cookie = parseNumber(key.slice(7).split('/')[0] ?? '0');
    else if (eq < 0) {
      const flag = FLAG_NAMES.find(([n]) => n === key);
      const proto = PROTO_NAMES.find(([n]) => n === key);
      if (flag !== undefined) flags |= flag[1];
      else if (proto !== undefined) {
        fields.push({ field: 'dl_type', value: proto[1] });
        if (proto[2] !== undefined) fields.push({ field: 'nw_proto', value: proto[2] });
      } else throw new FlowModelError(`${key}: unknown keyword`);
    } else if (key === 'tp_src' || key === 'tp_dst') {
      const proto = fields.find((x) => x.field === 'nw_proto')?.value;
      const pre = proto === 6n ? 'tcp' : proto === 17n ? 'udp' : proto === 132n ? 'sctp' : undefined;
      if (pre === undefined) throw new FlowModelError(`${key}: needs tcp, udp or sctp first`);
      fields.push(...parseMatchField(`${pre}_${key.slice(3)}`, val));
    } else fields.push(...parseMatchField(key, val));
  }
  // ovs-ofctl prints ICMPv6 type/code as icmp_type/icmp_code under icmp6.
  const v6 = fields.some((x) => x.field === 'dl_type' && x.value === 0x86ddn);
  const renamed = v6
    ? fields.map((x) => (x.field === 'icmp_type' || x.field === 'icmp_code' ? { ...x, field: x.field.replace('icmp_', 'icmpv6_') } : x))
    : fields;
  return {
    table,
    priority,
    cookie,
    match: normalizeMatch(renamed),
    actions,
    ...(extra.idleTimeout ? { idleTimeout: extra.idleTimeout } : {}),
    ...(extra.hardTimeout ? { hardTimeout: extra.hardTimeout } : {}),
    ...(extra.importance ? { importance: extra.importance } : {}),
    ...(flags !== 0 ? { flags } : {}),
  };
}

// ---------------------------------------------------------------- groups

/** A group in ovs-ofctl(8) "Group Syntax" (as `dump-groups` prints it for OpenFlow 1.5). */
export function formatGroup(g: Omit<GroupMod, 'command'>): string {
  const parts = [`group_id=${g.groupId}`, `type=${g.type}`];
  g.buckets.forEach((b, i) => {
    const bp = [`bucket_id:${b.bucketId ?? i}`];
    if (b.weight !== undefined) bp.push(`weight:${b.weight}`);
    if (b.watchPort !== undefined) bp.push(`watch_port:${formatPort(b.watchPort)}`);
    bp.push(`actions=${formatActions(b.actions)}`);
    parts.push(`bucket=${bp.join(',')}`);
  });
  return parts.join(',');
}

/** A group from one `ovs-ofctl dump-groups` line or from add-group syntax. */
export function parseGroup(line: string): Omit<GroupMod, 'command'> {
  const text = line.trim();
  const pieces = splitTop(text);
  let groupId: number | undefined;
  let type: keyof typeof OFPGT = 'all';
  const buckets: Bucket[] = [];
  let i = 0;
  while (i < pieces.length) {
    const p = pieces[i] ?? '';
    if (p.startsWith('bucket=')) {
      const b: { bucketId?: number; weight?: number; watchPort?: number; actions: Action[] } = { actions: [] };
      let cur = p.slice('bucket='.length);
      for (;;) {
        const kv = /^([a-z_]+)[:=](.*)$/s.exec(cur);
        if (kv === null) throw new FlowModelError(`bucket: ${cur}: bad syntax`);
        const [, k, v = ''] = kv;
        if (k === 'actions') {
          // Everything up to the next bucket belongs to the action list.
          const rest: string[] = [v];
          while (i + 1 < pieces.length && !(pieces[i + 1] ?? '').startsWith('bucket=')) rest.push(pieces[++i] ?? '');
          b.actions = parseActions(rest.join(','));
          break;
        }
        if (k === 'bucket_id') b.bucketId = Number(v);
        else if (k === 'weight') b.weight = Number(v);
        else if (k === 'watch_port') b.watchPort = parsePort(v);
        else if (k !== 'watch_group') throw new FlowModelError(`bucket: unknown key ${k}`);
        if (i + 1 >= pieces.length || (pieces[i + 1] ?? '').startsWith('bucket=')) break;
        cur = pieces[++i] ?? '';
      }
      buckets.push(b);
    } else {
      const kv = /^([a-z_]+)=(.*)$/.exec(p);
      if (kv?.[1] === 'group_id') groupId = Number(kv[2]);
      else if (kv?.[1] === 'type') {
        if (!((kv[2] ?? '') in OFPGT)) throw new FlowModelError(`type=${kv[2]}: unknown group type`);
        type = kv[2] as keyof typeof OFPGT;
      } else if (kv?.[1] !== 'selection_method' && kv?.[1] !== 'selection_method_param' && kv?.[1] !== 'fields')
        throw new FlowModelError(`${p}: unknown group keyword`);
    }
    i++;
  }
  if (groupId === undefined) throw new FlowModelError(`${text}: no group_id`);
  return { groupId, type, buckets };
}
