/**
 * `learn` (ovs-actions(7) "The learn action"): NXAST_LEARN with its
 * flow_mod_specs, and the ovs-ofctl spelling of the specs.
 */
import type { ActionEntry } from './action-entry.js';
import { type FieldRef, FlowModelError, LEARN_FLAGS, type LearnAction, type LearnSpec, fieldBits, fieldInfo, ones } from './flow.js';
import { OpenFlowCodecError, type Reader, type Writer } from './codec/bytes.js';
import { type OxmOptions, oxmHeader } from './codec/oxm.js';
import { NXAST, checkRef, finish, nxForm, nxStart, readFieldHeader, refCode } from './codec/action-wire.js';
import { aliasOf, formatFieldRef, formatValueFor, hex, parseFieldRef, parseNumber, parseValueFor, splitTop } from './text-values.js';

/** flow_mod_spec destination types (the two bits above the width). */
const DST_TYPES = ['match', 'load', 'output'] as const;

/** NXAST_LEARN: the new flow's parameters, then flow_mod_specs, ended by a zero header and padding. */
function encodeLearn(w: Writer, a: LearnAction, opts: OxmOptions): void {
  const s = nxStart(w, NXAST.LEARN);
  w.u16(a.idleTimeout ?? 0)
    .u16(a.hardTimeout ?? 0)
    .u16(a.priority ?? 0x8000)
    .u64(a.cookie ?? 0n);
  w.u16(a.flags ?? 0)
    .u8(a.table)
    .zeros(1)
    .u16(a.finIdleTimeout ?? 0)
    .u16(a.finHardTimeout ?? 0);
  for (const sp of a.specs) {
    const imm = !('field' in sp.src);
    const nBits = sp.src.nBits;
    if (nBits < 1 || nBits > 1023) throw new OpenFlowCodecError(`learn: ${nBits}-bit spec`);
    if (sp.dst !== undefined && sp.dst.nBits !== nBits) throw new OpenFlowCodecError('learn: source and destination widths differ');
    w.u16(((imm ? 1 : 0) << 13) | (DST_TYPES.indexOf(sp.kind) << 11) | nBits);
    if ('field' in sp.src) {
      checkRef(sp.src);
      w.u32(oxmHeader(refCode(sp.src.field, opts))).u16(sp.src.ofs);
    } else {
      if (sp.src.value > ones(nBits))
        throw new OpenFlowCodecError(`learn: value 0x${sp.src.value.toString(16)} does not fit in ${nBits} bits`);
      w.uint(sp.src.value, Math.ceil(nBits / 16) * 2);
    }
    if (sp.kind !== 'output') {
      if (sp.dst === undefined) throw new OpenFlowCodecError(`learn: ${sp.kind} without a destination`);
      checkRef(sp.dst);
      w.u32(oxmHeader(refCode(sp.dst.field, opts))).u16(sp.dst.ofs);
    }
  }
  finish(w, s);
}

/** A field reference in a flow_mod_spec: the header, then the offset. */
function readSpecRef(r: Reader, nBits: number): FieldRef {
  const field = readFieldHeader(r).name;
  return { field, ofs: r.u16(), nBits };
}

function decodeLearn(r: Reader): LearnAction {
  const idleTimeout = r.u16();
  const hardTimeout = r.u16();
  const priority = r.u16();
  const cookie = r.u64();
  const flags = r.u16();
  const table = r.u8();
  r.skip(1);
  const finIdleTimeout = r.u16();
  const finHardTimeout = r.u16();
  const specs: LearnSpec[] = [];
  while (r.left >= 2) {
    const h = r.u16();
    if (h === 0) break;
    const nBits = h & 0x3ff;
    const imm = (h >> 13) & 1;
    const kind = DST_TYPES[(h >> 11) & 3];
    if (kind === undefined || nBits === 0) throw new OpenFlowCodecError(`learn: bad spec header 0x${h.toString(16)}`);
    const src: LearnSpec['src'] = imm === 0 ? readSpecRef(r, nBits) : { value: r.uint(Math.ceil(nBits / 16) * 2), nBits };
    if (kind === 'output') specs.push({ kind, src });
    else specs.push({ kind, src, dst: readSpecRef(r, nBits) });
  }
  return {
    type: 'learn',
    table,
    ...(priority !== 0x8000 ? { priority } : {}),
    ...(idleTimeout !== 0 ? { idleTimeout } : {}),
    ...(hardTimeout !== 0 ? { hardTimeout } : {}),
    ...(finIdleTimeout !== 0 ? { finIdleTimeout } : {}),
    ...(finHardTimeout !== 0 ? { finHardTimeout } : {}),
    ...(cookie !== 0n ? { cookie } : {}),
    ...(flags !== 0 ? { flags } : {}),
    specs,
  };
}

function formatLearnSpec(sp: LearnSpec): string {
  const src = 'field' in sp.src ? formatFieldRef(sp.src) : undefined;
  if (sp.kind === 'output') return `output:${src ?? hex('value' in sp.src ? sp.src.value : 0n)}`;
  const dst = sp.dst;
  if (dst === undefined) throw new FlowModelError(`learn: ${sp.kind} without a destination`);
  const immediate = 'value' in sp.src ? sp.src.value : undefined;
  if (sp.kind === 'load') return `load:${src ?? hex(immediate ?? 0n)}->${formatFieldRef(dst)}`;
  if (src !== undefined)
    return 'field' in sp.src && sp.src.field === dst.field && sp.src.ofs === dst.ofs ? src : `${formatFieldRef(dst)}=${src}`;
  const whole = dst.ofs === 0 && dst.nBits === fieldBits(dst.field) && fieldInfo(dst.field) !== undefined;
  return whole
    ? `${fieldInfo(dst.field)?.setName ?? dst.field}=${formatValueFor(dst.field, immediate ?? 0n)}`
    : `${formatFieldRef(dst)}=${hex(immediate ?? 0n)}`;
}

function formatLearn(a: LearnAction): string {
  const parts = [`table=${a.table}`];
  if (a.idleTimeout !== undefined) parts.push(`idle_timeout=${a.idleTimeout}`);
  if (a.hardTimeout !== undefined) parts.push(`hard_timeout=${a.hardTimeout}`);
  if (a.finIdleTimeout !== undefined) parts.push(`fin_idle_timeout=${a.finIdleTimeout}`);
  if (a.finHardTimeout !== undefined) parts.push(`fin_hard_timeout=${a.finHardTimeout}`);
  if (a.priority !== undefined) parts.push(`priority=${a.priority}`);
  if (((a.flags ?? 0) & LEARN_FLAGS.SEND_FLOW_REM) !== 0) parts.push('send_flow_rem');
  if (((a.flags ?? 0) & LEARN_FLAGS.DELETE_LEARNED) !== 0) parts.push('delete_learned');
  if (a.cookie !== undefined && a.cookie !== 0n) parts.push(`cookie=${hex(a.cookie)}`);
  for (const sp of a.specs) parts.push(formatLearnSpec(sp));
  return `learn(${parts.join(',')})`;
}

/** learn's numeric arguments by their ovs-ofctl names. */
const NUMERIC_ARGS: ReadonlyMap<string, 'priority' | 'idleTimeout' | 'hardTimeout' | 'finIdleTimeout' | 'finHardTimeout'> = new Map([
  ['priority', 'priority'],
  ['idle_timeout', 'idleTimeout'],
  ['hard_timeout', 'hardTimeout'],
  ['fin_idle_timeout', 'finIdleTimeout'],
  ['fin_hard_timeout', 'finHardTimeout'],
]);

function parseLearn(body: string): LearnAction {
  const a: {
    type: 'learn';
    table: number;
    priority?: number;
    idleTimeout?: number;
    hardTimeout?: number;
    finIdleTimeout?: number;
    finHardTimeout?: number;
    cookie?: bigint;
    flags?: number;
    specs: LearnSpec[];
  } = { type: 'learn', table: 1, specs: [] };
  let flags = 0;
  for (const arg of splitTop(body)) {
    const kv = /^([a-z_]+)=(.*)$/.exec(arg);
    const key = kv?.[1] ?? '';
    const numeric = NUMERIC_ARGS.get(key);
    if (arg === 'send_flow_rem') flags |= LEARN_FLAGS.SEND_FLOW_REM;
    else if (arg === 'delete_learned') flags |= LEARN_FLAGS.DELETE_LEARNED;
    else if (key === 'table') a.table = Number(kv?.[2]);
    else if (key === 'cookie') a.cookie = parseNumber(kv?.[2] ?? '');
    else if (numeric !== undefined) a[numeric] = Number(kv?.[2]);
    else if (arg.startsWith('load:')) {
      const m = /^load:(.+)->(.+)$/.exec(arg);
      if (m === null) throw new FlowModelError(`learn: ${arg}: bad load`);
      const dst = parseFieldRef(m[2] ?? '');
      const srcText = m[1] ?? '';
      a.specs.push({
        kind: 'load',
        src: srcText.includes('[') ? parseFieldRef(srcText) : { value: parseNumber(srcText), nBits: dst.nBits },
        dst,
      });
    } else if (arg.startsWith('output:')) a.specs.push({ kind: 'output', src: parseFieldRef(arg.slice(7)) });
    else if (/^[A-Za-z0-9_]+\[[^\]]*\]$/.test(arg)) {
      const r = parseFieldRef(arg);
      a.specs.push({ kind: 'match', src: r, dst: r });
    } else {
      const m = /^([A-Za-z0-9_]+(?:\[[^\]]*\])?)=(.+)$/.exec(arg);
      if (m === null) throw new FlowModelError(`learn: ${arg}: unknown argument`);
      const lhs = m[1] ?? '';
      const rhs = m[2] ?? '';
      const dst = lhs.includes('[') ? parseFieldRef(lhs) : wholeField(aliasOf(lhs));
      if (rhs.includes('[')) a.specs.push({ kind: 'match', src: parseFieldRef(rhs), dst });
      else a.specs.push({ kind: 'match', src: { value: parseValueFor(dst.field, rhs), nBits: dst.nBits }, dst });
    }
  }
  if (flags !== 0) a.flags = flags;
  return a;
}

function wholeField(field: string): FieldRef {
  return { field, ofs: 0, nBits: fieldBits(field) };
}

export const LEARN: ActionEntry<'learn'> = {
  encode: (w, a, cx) => encodeLearn(w, a, cx.opts),
  decode: [nxForm(NXAST.LEARN, (r) => decodeLearn(r))],
  format: (a) => formatLearn(a),
  parse: { call: { learn: (body) => parseLearn(body) } },
};
