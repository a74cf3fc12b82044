/**
 * `ct` and the `nat` inside it (ovs-actions(7) "The ct action"): NXAST_CT
 * with its nested NXAST_NAT and exec actions, and the ovs-ofctl spelling of
 * both. NAT has no entry of its own in the action table: it only exists
 * inside ct, so its four directions live here beside ct's.
 */
import type { ActionEntry, WireContext } from './action-entry.js';
import { type Action, type CtActionBuilder, FlowModelError, type NatSpec, type NatSpecBuilder } from './flow.js';
import type { Reader, Writer } from './codec/bytes.js';
import { OpenFlowCodecError } from './codec/bytes.js';
import { oxmHeader } from './codec/oxm.js';
import { NXAST, OFPAT, checkRef, fieldOfHeader, finish, nxForm, nxStart, ofsNbits, refCode, takeAction } from './codec/action-wire.js';
import { formatFieldRef, formatIpv4, formatIpv6, parseFieldRef, parseIpv4, parseIpv6, splitTop } from './text-values.js';

const NX_NAT_F = { SRC: 1, DST: 2, PERSISTENT: 4, PROTO_HASH: 8, PROTO_RANDOM: 16 } as const;
const NX_NAT_RANGE = { IPV4_MIN: 1, IPV4_MAX: 2, IPV6_MIN: 4, IPV6_MAX: 8, PROTO_MIN: 16, PROTO_MAX: 32 } as const;
/** NX_CT_F_* flags. */
const NX_CT_F = { COMMIT: 1, FORCE: 2 } as const;
/** Application-layer gateways by the names ovs-ofctl prints (ports 21 and 69). */
const ALG_NAMES: readonly (readonly [string, number])[] = [
  ['ftp', 21],
  ['tftp', 69],
];

// ---------------------------------------------------------------- nat

function encodeNat(w: Writer, n: NatSpec): void {
  const s = nxStart(w, NXAST.NAT);
  let flags = 0;
  if (n.kind === 'src') flags |= NX_NAT_F.SRC;
  if (n.kind === 'dst') flags |= NX_NAT_F.DST;
  if (n.persistent === true) flags |= NX_NAT_F.PERSISTENT;
  if (n.hash === true) flags |= NX_NAT_F.PROTO_HASH;
  if (n.random === true) flags |= NX_NAT_F.PROTO_RANDOM;
  let present = 0;
  const v6 = n.ipv6 === true;
  if (n.ipMin !== undefined) present |= v6 ? NX_NAT_RANGE.IPV6_MIN : NX_NAT_RANGE.IPV4_MIN;
  if (n.ipMax !== undefined) present |= v6 ? NX_NAT_RANGE.IPV6_MAX : NX_NAT_RANGE.IPV4_MAX;
  if (n.portMin !== undefined) present |= NX_NAT_RANGE.PROTO_MIN;
  if (n.portMax !== undefined) present |= NX_NAT_RANGE.PROTO_MAX;
  w.zeros(2).u16(flags).u16(present);
  const ipBytes = v6 ? 16 : 4;
  if (n.ipMin !== undefined) w.uint(n.ipMin, ipBytes);
  if (n.ipMax !== undefined) w.uint(n.ipMax, ipBytes);
  if (n.portMin !== undefined) w.u16(n.portMin);
  if (n.portMax !== undefined) w.u16(n.portMax);
  finish(w, s);
}

function decodeNat(r: Reader): NatSpec {
  r.skip(2);
  const flags = r.u16();
  const present = r.u16();
  const n: NatSpecBuilder = {};
  if ((flags & NX_NAT_F.SRC) !== 0) n.kind = 'src';
  if ((flags & NX_NAT_F.DST) !== 0) n.kind = 'dst';
  if ((flags & NX_NAT_F.PERSISTENT) !== 0) n.persistent = true;
  if ((flags & NX_NAT_F.PROTO_HASH) !== 0) n.hash = true;
  if ((flags & NX_NAT_F.PROTO_RANDOM) !== 0) n.random = true;
  if ((present & NX_NAT_RANGE.IPV4_MIN) !== 0) n.ipMin = r.uint(4);
  if ((present & NX_NAT_RANGE.IPV4_MAX) !== 0) n.ipMax = r.uint(4);
  if ((present & NX_NAT_RANGE.IPV6_MIN) !== 0) {
    n.ipMin = r.uint(16);
    n.ipv6 = true;
  }
  if ((present & NX_NAT_RANGE.IPV6_MAX) !== 0) {
    n.ipMax = r.uint(16);
    n.ipv6 = true;
  }
  if ((present & NX_NAT_RANGE.PROTO_MIN) !== 0) n.portMin = r.u16();
  if ((present & NX_NAT_RANGE.PROTO_MAX) !== 0) n.portMax = r.u16();
  return n;
}

function formatNat(n: NatSpec): string {
  if (n.kind === undefined) return 'nat';
  const ip = n.ipv6 === true ? formatIpv6 : formatIpv4;
  // No range: `nat(src)`, NAT to the connection's own addresses (OVN's ct_snat/ct_dnat without an address).
  let s = n.ipMin === undefined ? n.kind : `${n.kind}=`;
  const ports = n.portMin !== undefined;
  const wrap = (x: string): string => (n.ipv6 === true && ports ? `[${x}]` : x);
  if (n.ipMin !== undefined) s += wrap(ip(n.ipMin));
  if (n.ipMax !== undefined && n.ipMax !== n.ipMin) s += `-${wrap(ip(n.ipMax))}`;
  if (n.portMin !== undefined) s += `:${n.portMin}`;
  if (n.portMax !== undefined && n.portMax !== n.portMin) s += `-${n.portMax}`;
  const flags = [n.persistent === true ? 'persistent' : '', n.hash === true ? 'hash' : '', n.random === true ? 'random' : ''].filter(
    (x) => x !== '',
  );
  return `nat(${[s, ...flags].join(',')})`;
}

function parseNat(body: string | undefined): NatSpec {
  if (body === undefined || body === '') return {};
  const n: NatSpecBuilder = {};
  for (const arg of splitTop(body)) {
    if (arg === 'persistent' || arg === 'hash' || arg === 'random') {
      n[arg] = true;
      continue;
    }
    const m = /^(src|dst)(?:=(.*))?$/.exec(arg);
    if (m === null) throw new FlowModelError(`nat: ${arg}: unknown argument`);
    n.kind = m[1] as 'src' | 'dst';
    const spec = m[2];
    if (spec === undefined) continue;
    let addrs = spec;
    let ports: string | undefined;
    const b = /^(\[[^\]]+\](?:-\[[^\]]+\])?)(?::(.*))?$/.exec(spec);
    if (b !== null) {
      addrs = (b[1] ?? '').replace(/[[\]]/g, '');
      ports = b[2];
    } else if (!spec.includes('::') && spec.split(':').length === 2) {
      [addrs, ports] = spec.split(':') as [string, string];
    }
    const [lo, hi] = addrs.split('-') as [string, string | undefined];
    const v6 = lo.includes(':');
    const p = v6 ? parseIpv6 : parseIpv4;
    if (v6) n.ipv6 = true;
    n.ipMin = p(lo);
    n.ipMax = hi === undefined ? n.ipMin : p(hi);
    if (ports !== undefined) {
      const [plo, phi] = ports.split('-') as [string, string | undefined];
      n.portMin = Number(plo);
      n.portMax = phi === undefined ? n.portMin : Number(phi);
    }
  }
  return n;
}

// ---------------------------------------------------------------- ct

/** ct's nested actions: a NAT action becomes `nat`, the rest `exec`. */
function decodeNested(r: Reader, cx: WireContext): { nat?: NatSpec; actions: Action[] } {
  const actions: Action[] = [];
  let nat: NatSpec | undefined;
  while (r.left > 0) {
    const { type, body } = takeAction(r);
    if (type === OFPAT.EXPERIMENTER && body.left >= 16 && body.view.getUint16(body.pos + 8) === NXAST.NAT) {
      body.skip(10);
      nat = decodeNat(body);
      continue;
    }
    body.skip(4);
    actions.push(cx.decodeOne(type, body));
  }
  return nat === undefined ? { actions } : { nat, actions };
}

export const CT: ActionEntry<'ct'> = {
  encode(w, a, cx) {
    const s = nxStart(w, NXAST.CT);
    w.u16((a.commit === true ? NX_CT_F.COMMIT : 0) | (a.force === true ? NX_CT_F.FORCE : 0));
    if (typeof a.zone === 'object') {
      checkRef(a.zone);
      w.u32(oxmHeader(refCode(a.zone.field, cx.opts))).u16(ofsNbits(a.zone));
    } else w.u32(0).u16(a.zone ?? 0);
    w.u8(a.table ?? 0xff)
      .zeros(3)
      .u16(a.alg ?? 0);
    if (a.nat !== undefined) encodeNat(w, a.nat);
    cx.encodeList(w, a.exec ?? []);
    finish(w, s);
  },
  decode: [
    nxForm(NXAST.CT, (r, cx) => {
      const flags = r.u16();
      const zoneSrc = r.u32();
      const zoneVal = r.u16();
      const table = r.u8();
      r.skip(3);
      const alg = r.u16();
      const nested = decodeNested(r, cx);
      const a: CtActionBuilder = { type: 'ct' };
      if ((flags & NX_CT_F.COMMIT) !== 0) a.commit = true;
      if ((flags & NX_CT_F.FORCE) !== 0) a.force = true;
      if (zoneSrc !== 0) a.zone = { field: fieldOfHeader(zoneSrc).name, ofs: zoneVal >> 6, nBits: (zoneVal & 0x3f) + 1 };
      else if (zoneVal !== 0) a.zone = zoneVal;
      if (table !== 0xff) a.table = table;
      if (alg !== 0) a.alg = alg;
      if (nested.nat !== undefined) a.nat = nested.nat;
      if (nested.actions.length > 0) a.exec = nested.actions;
      return a;
    }),
    nxForm(NXAST.NAT, () => {
      throw new OpenFlowCodecError('nat outside ct');
    }),
  ],
  format(a, cx) {
    const parts: string[] = [];
    if (a.commit === true) parts.push('commit');
    if (a.force === true) parts.push('force');
    if (a.table !== undefined) parts.push(`table=${a.table}`);
    if (a.zone !== undefined) parts.push(`zone=${typeof a.zone === 'number' ? a.zone : formatFieldRef(a.zone)}`);
    if (a.nat !== undefined) parts.push(formatNat(a.nat));
    if (a.exec !== undefined && a.exec.length > 0) parts.push(`exec(${cx.formatList(a.exec)})`);
    // ovs-ofctl prints alg last (checked with ofp-print).
    if (a.alg !== undefined) parts.push(`alg=${ALG_NAMES.find(([, p]) => p === a.alg)?.[0] ?? a.alg}`);
    return parts.length === 0 ? 'ct' : `ct(${parts.join(',')})`;
  },
  parse: {
    word: { ct: () => ({ type: 'ct' }) },
    call: {
      ct(body, cx) {
        const a: CtActionBuilder = { type: 'ct' };
        for (const arg of splitTop(body)) {
          if (arg === 'commit') a.commit = true;
          else if (arg === 'force') a.force = true;
          else if (arg === 'nat' || arg.startsWith('nat(')) a.nat = parseNat(/^nat\((.*)\)$/s.exec(arg)?.[1]);
          else if (arg.startsWith('exec(')) a.exec = cx.parseList(arg.slice(5, -1));
          else if (arg.startsWith('zone=')) {
            const z = arg.slice(5);
            a.zone = /^\d+$|^0x/.test(z) ? Number(z) : parseFieldRef(z);
          } else if (arg.startsWith('table=')) a.table = Number(arg.slice(6));
          else if (arg.startsWith('alg=')) {
            const v = arg.slice(4);
            a.alg = ALG_NAMES.find(([n]) => n === v)?.[1] ?? Number(v);
          } else throw new FlowModelError(`ct: unknown argument ${arg}`);
        }
        return a;
      },
    },
  },
};
