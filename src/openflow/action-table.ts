/**
 * The one action table (ovs-actions(7)): for every kind of the model's
 * Action union, its wire encoder (OpenFlow 1.5 and the Nicira extensions),
 * the wire forms that read back into it, its ovs-ofctl printer and the
 * ovs-ofctl spellings that parse into it. The codec (codec/actions.ts) and
 * the text syntax (flow-text.ts) only dispatch through this table, so adding
 * an action means adding its kind to `Action` in flow.ts and its entry here
 * (the table's type makes a missing entry a compile error).
 *
 * `load` and `set_tunnel` are written as OFPAT_SET_FIELD (masked when the
 * range is partial), the form OVS itself uses for OpenFlow 1.5, so they read
 * back as `set_field`.
 */
import type { ActionEntry, ActionOf, ActionTable, WireForm } from './action-entry.js';
import { CONTROLLER } from './action-controller.js';
import { CT } from './action-ct.js';
import { LEARN } from './action-learn.js';
import { type Action, type FieldRef, FlowModelError, OFPP, fieldBits, ones } from './flow.js';
import { anyField } from './fields.js';
import { OpenFlowCodecError, type Reader, type Writer } from './codec/bytes.js';
import { oxmHeader } from './codec/oxm.js';
import {
  NXAST,
  OFPAT,
  checkRef,
  codeName,
  finish,
  nxForm,
  nxStart,
  ofsNbits,
  port16,
  port32,
  readFieldHeader,
  readRef,
  refCode,
  writeNxEmpty,
  writeSetField,
} from './codec/action-wire.js';
import {
  PORT_NAMES,
  aliasOf,
  formatBytes,
  formatFieldRef,
  formatPort,
  formatValueFor,
  hex,
  parseBytes,
  parseFieldRef,
  parseNumber,
  parsePort,
  parseValueFor,
  splitMask,
  splitTop,
} from './text-values.js';

/** The colon form `what:A->B` (load, move): `make` gets A and B. */
function arrowColon(what: string, make: (from: string, to: string) => Action): Readonly<Record<string, (arg: string) => Action>> {
  return {
    [what]: (arg) => {
      const m = /^(.+)->(.+)$/.exec(arg);
      if (m === null) throw new FlowModelError(`${what}:${arg}: bad syntax`);
      return make(m[1] ?? '', m[2] ?? '');
    },
  };
}

/** An action with nothing but its kind, in either encoding. */
function bare<K extends 'pop_vlan' | 'ct_clear' | 'exit'>(
  type: K,
  encode: (w: Writer) => void,
  form: Omit<WireForm, 'read'>,
): ActionEntry<K> {
  const make = (): ActionOf<K> => ({ type }) as ActionOf<K>;
  return { encode, decode: [{ ...form, read: make }], format: () => type, parse: { word: { [type]: make } } };
}

/** NXAST_STACK_PUSH / _POP: the same layout, a field range to push from or pop into. */
function stack<K extends 'push' | 'pop'>(type: K, subtype: number, refOf: (a: ActionOf<K>) => FieldRef): ActionEntry<K> {
  const make = (ref: FieldRef): ActionOf<K> => (type === 'push' ? { type, src: ref } : { type, dst: ref }) as ActionOf<K>;
  return {
    encode(w, a, cx) {
      const ref = refOf(a);
      checkRef(ref);
      const s = nxStart(w, subtype);
      w.u16(ref.ofs)
        .u32(oxmHeader(refCode(ref.field, cx.opts)))
        .u16(ref.nBits);
      finish(w, s);
    },
    decode: [
      nxForm(subtype, (r) => {
        const ofs = r.u16();
        const field = readFieldHeader(r).name;
        return make({ field, ofs, nBits: r.u16() });
      }),
    ],
    format: (a) => `${type}:${formatFieldRef(refOf(a))}`,
    parse: { colon: { [type]: (arg: string) => make(parseFieldRef(arg)) } },
  };
}

/** The two field headers of OFPAT_COPY_FIELD and NXAST_REG_MOVE, after their widths and offsets. */
function readMove(r: Reader, nBits: number, srcOfs: number, dstOfs: number): Action {
  const src = readRef(r, srcOfs, nBits);
  return { type: 'move', src, dst: readRef(r, dstOfs, nBits) };
}

/** NXAST_OUTPUT_REG(2) read back: the `ofs_nbits` word and the field header make the reference. */
function outputReg(on: number, field: string, maxLen: number): Action {
  const a = { type: 'output_reg' as const, src: { field, ofs: on >> 6, nBits: (on & 0x3f) + 1 } };
  return maxLen === 0 ? a : { ...a, maxLen };
}

function readResubmit(subtype: number): (r: Reader) => Action {
  return (r) => {
    const port = port32(r.u16());
    const table = subtype === NXAST.RESUBMIT ? 0xff : r.u8();
    const a: { type: 'resubmit'; port?: number; table?: number; ct?: boolean } = { type: 'resubmit' };
    if (port !== OFPP.IN_PORT) a.port = port;
    if (table !== 0xff) a.table = table;
    if (subtype === NXAST.RESUBMIT_TABLE_CT) a.ct = true;
    return a;
  };
}

/** set_field on an xreg/xxreg touching one 32-bit register → set_field on that register. */
function foldWide(a: Action): Action {
  if (a.type === 'ct' && a.exec !== undefined) return { ...a, exec: a.exec.map(foldWide) };
  if (a.type === 'clone') return { ...a, actions: a.actions.map(foldWide) };
  if (a.type !== 'set_field') return a;
  const m = /^(x?x)reg(\d)$/.exec(a.field);
  if (m === null) return a;
  const n = m[1] === 'x' ? 2 : 4;
  const first = Number(m[2]) * n;
  const mask = a.mask ?? ones(32 * n);
  for (let i = 0; i < n; i++) {
    const shift = BigInt(32 * (n - 1 - i));
    const part = (mask >> shift) & 0xffffffffn;
    if ((mask & ~(0xffffffffn << shift)) === 0n && mask >> (shift + 32n) === 0n && part !== 0n) {
      const v = (a.value >> shift) & 0xffffffffn;
      return part === 0xffffffffn
        ? { type: 'set_field', field: `reg${first + i}`, value: v }
        : { type: 'set_field', field: `reg${first + i}`, value: v & part, mask: part };
    }
  }
  return a;
}

const OUTPUT_PORT_WORDS = Object.fromEntries(
  Object.entries(PORT_NAMES)
    .filter(([name]) => name !== 'CONTROLLER')
    .map(([name, port]) => [name, (): Action => ({ type: 'output', port })]),
);

export const ACTIONS: ActionTable = {
  output: {
    encode(w, a) {
      w.u16(OFPAT.OUTPUT)
        .u16(16)
        .u32(a.port)
        .u16(a.maxLen ?? (a.port === OFPP.CONTROLLER ? 0xffff : 0))
        .zeros(6);
    },
    decode: [
      {
        type: OFPAT.OUTPUT,
        read(r) {
          const port = r.u32();
          const maxLen = r.u16();
          if (port === OFPP.CONTROLLER) return maxLen === 0xffff ? { type: 'controller' } : { type: 'controller', maxLen };
          return { type: 'output', port };
        },
      },
    ],
    format: (a) => (a.port === OFPP.IN_PORT ? 'IN_PORT' : a.port >= 0xffffff00 ? formatPort(a.port) : `output:${a.port}`),
    parse: {
      word: OUTPUT_PORT_WORDS,
      colon: {
        output: (arg) => (/\[/.test(arg) ? { type: 'output_reg', src: parseFieldRef(arg) } : { type: 'output', port: parsePort(arg) }),
      },
    },
  },
  output_reg: {
    encode(w, a, cx) {
      checkRef(a.src);
      const s = nxStart(w, NXAST.OUTPUT_REG2);
      w.u16(ofsNbits(a.src)).u16(a.maxLen ?? 0);
      w.u32(oxmHeader(refCode(a.src.field, cx.opts)));
      finish(w, s);
    },
    decode: [
      nxForm(NXAST.OUTPUT_REG, (r) => {
        const on = r.u16();
        const field = readFieldHeader(r).name;
        return outputReg(on, field, r.u16());
      }),
      nxForm(NXAST.OUTPUT_REG2, (r) => {
        const on = r.u16();
        const maxLen = r.u16();
        return outputReg(on, readFieldHeader(r).name, maxLen);
      }),
    ],
    format: (a) => `output:${formatFieldRef(a.src)}`,
    // Written `output:FIELD[...]`: the output entry's colon form.
    parse: {},
  },
  controller: CONTROLLER,
  resubmit: {
    encode(w, a) {
      const s = nxStart(w, a.ct === true ? NXAST.RESUBMIT_TABLE_CT : NXAST.RESUBMIT_TABLE);
      w.u16(port16(a.port ?? OFPP.IN_PORT))
        .u8(a.table ?? 0xff)
        .zeros(3);
      finish(w, s);
    },
    decode: [NXAST.RESUBMIT, NXAST.RESUBMIT_TABLE, NXAST.RESUBMIT_TABLE_CT].map((subtype) => nxForm(subtype, readResubmit(subtype))),
    format(a) {
      const port = a.port === undefined || a.port === OFPP.IN_PORT ? '' : formatPort(a.port);
      if (port !== '' && a.table === undefined && a.ct !== true) return `resubmit:${port}`;
      return `resubmit(${port},${a.table === undefined ? '' : a.table}${a.ct === true ? ',ct' : ''})`;
    },
    parse: {
      colon: { resubmit: (arg) => ({ type: 'resubmit', port: parsePort(arg) }) },
      call: {
        resubmit(body) {
          const [port = '', table = '', ct] = body.split(',');
          const a: { type: 'resubmit'; port?: number; table?: number; ct?: boolean } = { type: 'resubmit' };
          if (port !== '' && parsePort(port) !== OFPP.IN_PORT) a.port = parsePort(port);
          if (table !== '' && table !== '255') a.table = Number(table);
          if (ct === 'ct') a.ct = true;
          return a;
        },
      },
    },
  },
  set_field: {
    // The model's in_port values are 32-bit port numbers (ANY = 0xffffffff); the wire field is 16 bits.
    encode: (w, a, cx) => writeSetField(w, a.field, a.field === 'in_port' ? BigInt(port16(Number(a.value))) : a.value, a.mask, cx.opts),
    decode: [
      {
        type: OFPAT.SET_FIELD,
        read(r) {
          const hdr = r.u32();
          const hasMask = (hdr & 0x100) !== 0;
          const len = hdr & 0xff;
          const bytes = hasMask ? len / 2 : len;
          const name = codeName(hdr >>> 16, (hdr >>> 9) & 0x7f);
          const raw = r.uint(bytes);
          const value = name === 'in_port' ? BigInt(port32(Number(raw))) : raw;
          const mask = hasMask ? r.uint(bytes) : undefined;
          return foldWide(mask === undefined ? { type: 'set_field', field: name, value } : { type: 'set_field', field: name, value, mask });
        },
      },
    ],
    format(a) {
      const mask = a.mask === undefined ? '' : `/${formatValueFor(a.field, a.mask)}`;
      return `set_field:${formatValueFor(a.field, a.value)}${mask}->${anyField(a.field)?.setName ?? a.field}`;
    },
    parse: {
      colon: {
        set_field(arg) {
          const m = /^(.+)->([a-z_0-9]+)$/.exec(arg);
          if (m === null) throw new FlowModelError(`set_field:${arg}: bad syntax`);
          const field = aliasOf(m[2] ?? '');
          const [vs, ms] = splitMask(m[1] ?? '');
          const value = parseValueFor(field, vs);
          return ms === undefined
            ? { type: 'set_field', field, value }
            : { type: 'set_field', field, value, mask: parseValueFor(field, ms) };
        },
      },
    },
  },
  load: {
    encode(w, a, cx) {
      checkRef(a.dst);
      if (a.value > ones(a.dst.nBits))
        throw new OpenFlowCodecError(`load: value 0x${a.value.toString(16)} does not fit in ${a.dst.nBits} bits`);
      const bits = fieldBits(a.dst.field);
      const mask = ones(a.dst.nBits) << BigInt(a.dst.ofs);
      writeSetField(w, a.dst.field, a.value << BigInt(a.dst.ofs), mask === ones(bits) ? undefined : mask, cx.opts);
    },
    format: (a) => `load:${hex(a.value)}->${formatFieldRef(a.dst)}`,
    parse: { colon: arrowColon('load', (value, dst) => ({ type: 'load', dst: parseFieldRef(dst), value: parseNumber(value) })) },
  },
  move: {
    encode(w, a, cx) {
      checkRef(a.src);
      checkRef(a.dst);
      if (a.src.nBits !== a.dst.nBits) throw new OpenFlowCodecError('move: source and destination widths differ');
      // OpenFlow 1.5 has its own copy-field action; OVS refuses NXAST_REG_MOVE in 1.5.
      const s = w.length;
      w.u16(OFPAT.COPY_FIELD).u16(0).u16(a.src.nBits).u16(a.src.ofs).u16(a.dst.ofs).zeros(2);
      w.u32(oxmHeader(refCode(a.src.field, cx.opts)));
      w.u32(oxmHeader(refCode(a.dst.field, cx.opts)));
      finish(w, s);
    },
    decode: [
      {
        type: OFPAT.COPY_FIELD,
        read(r) {
          const nBits = r.u16();
          const srcOfs = r.u16();
          const dstOfs = r.u16();
          r.skip(2);
          return readMove(r, nBits, srcOfs, dstOfs);
        },
      },
      nxForm(NXAST.REG_MOVE, (r) => {
        const nBits = r.u16();
        const srcOfs = r.u16();
        return readMove(r, nBits, srcOfs, r.u16());
      }),
    ],
    format: (a) => `move:${formatFieldRef(a.src)}->${formatFieldRef(a.dst)}`,
    parse: { colon: arrowColon('move', (src, dst) => ({ type: 'move', src: parseFieldRef(src), dst: parseFieldRef(dst) })) },
  },
  push_vlan: {
    encode: (w, a) => void w.u16(OFPAT.PUSH_VLAN).u16(8).u16(a.ethertype).zeros(2),
    decode: [{ type: OFPAT.PUSH_VLAN, read: (r) => ({ type: 'push_vlan', ethertype: r.u16() }) }],
    format: (a) => `push_vlan:${hex(BigInt(a.ethertype))}`,
    parse: { colon: { push_vlan: (arg) => ({ type: 'push_vlan', ethertype: Number(arg) }) } },
  },
  pop_vlan: {
    ...bare('pop_vlan', (w) => void w.u16(OFPAT.POP_VLAN).u16(8).zeros(4), { type: OFPAT.POP_VLAN }),
    parse: { word: { pop_vlan: () => ({ type: 'pop_vlan' }), strip_vlan: () => ({ type: 'pop_vlan' }) } },
  },
  set_tunnel: {
    encode: (w, a, cx) => writeSetField(w, 'tun_id', a.tunId, undefined, cx.opts),
    // OVS reports NXAST_SET_TUNNEL(64) as the set_field it means.
    decode: [
      nxForm(NXAST.SET_TUNNEL, (r) => {
        r.skip(2);
        return { type: 'set_field', field: 'tun_id', value: BigInt(r.u32()) };
      }),
      nxForm(NXAST.SET_TUNNEL64, (r) => {
        r.skip(6);
        return { type: 'set_field', field: 'tun_id', value: r.u64() };
      }),
    ],
    format: (a) => `set_tunnel64:${hex(a.tunId)}`,
    parse: {
      colon: {
        set_tunnel: (arg) => ({ type: 'set_tunnel', tunId: parseNumber(arg) }),
        set_tunnel64: (arg) => ({ type: 'set_tunnel', tunId: parseNumber(arg) }),
      },
    },
  },
  conjunction: {
    encode(w, a) {
      if (a.nClauses < 2 || a.nClauses > 64 || a.clause < 1 || a.clause > a.nClauses)
        throw new OpenFlowCodecError(`conjunction(${a.id},${a.clause}/${a.nClauses}): clause out of range`);
      const s = nxStart(w, NXAST.CONJUNCTION);
      w.u8(a.clause - 1)
        .u8(a.nClauses)
        .u32(a.id);
      finish(w, s);
    },
    decode: [
      nxForm(NXAST.CONJUNCTION, (r) => {
        const clause = r.u8() + 1;
        const nClauses = r.u8();
        return { type: 'conjunction', id: r.u32(), clause, nClauses };
      }),
    ],
    format: (a) => `conjunction(${a.id},${a.clause}/${a.nClauses})`,
    parse: {
      call: {
        conjunction(body) {
          const m = /^(\d+),(\d+)\/(\d+)$/.exec(body);
          if (m === null) throw new FlowModelError(`conjunction(${body}): bad arguments`);
          return { type: 'conjunction', id: Number(m[1]), clause: Number(m[2]), nClauses: Number(m[3]) };
        },
      },
    },
  },
  ct: CT,
  ct_clear: bare('ct_clear', (w) => writeNxEmpty(w, NXAST.CT_CLEAR), { type: OFPAT.EXPERIMENTER, subtype: NXAST.CT_CLEAR }),
  dec_ttl: {
    encode(w, a) {
      if (a.ids === undefined) {
        w.u16(OFPAT.DEC_NW_TTL).u16(8).zeros(4);
        return;
      }
      const s = nxStart(w, NXAST.DEC_TTL_CNT_IDS);
      w.u16(a.ids.length).zeros(4);
      for (const id of a.ids) w.u16(id);
      finish(w, s);
    },
    decode: [
      { type: OFPAT.DEC_NW_TTL, read: () => ({ type: 'dec_ttl' }) },
      nxForm(NXAST.DEC_TTL_CNT_IDS, (r) => {
        const n = r.u16();
        r.skip(4);
        const ids: number[] = [];
        for (let i = 0; i < n; i++) ids.push(r.u16());
        return { type: 'dec_ttl', ids };
      }),
    ],
    format: (a) => (a.ids === undefined ? 'dec_ttl' : `dec_ttl(${a.ids.join(',')})`),
    parse: {
      word: { dec_ttl: () => ({ type: 'dec_ttl' }) },
      call: { dec_ttl: (body) => ({ type: 'dec_ttl', ids: splitTop(body).map(Number) }) },
    },
  },
  note: {
    encode(w, a) {
      const s = nxStart(w, NXAST.NOTE);
      w.raw(a.data);
      if (w.length - s < 16) w.zeros(16 - (w.length - s));
      finish(w, s);
    },
    decode: [nxForm(NXAST.NOTE, (r) => ({ type: 'note', data: r.bytes(r.left) }))],
    format: (a) => `note:${formatBytes(a.data)}`,
    parse: { colon: { note: (arg) => ({ type: 'note', data: parseBytes(arg) }) } },
  },
  group: {
    encode: (w, a) => void w.u16(OFPAT.GROUP).u16(8).u32(a.groupId),
    decode: [{ type: OFPAT.GROUP, read: (r) => ({ type: 'group', groupId: r.u32() }) }],
    format: (a) => `group:${a.groupId}`,
    parse: { colon: { group: (arg) => ({ type: 'group', groupId: Number(arg) }) } },
  },
  meter: {
    encode: (w, a) => void w.u16(OFPAT.METER).u16(8).u32(a.meterId),
    decode: [{ type: OFPAT.METER, read: (r) => ({ type: 'meter', meterId: r.u32() }) }],
    format: (a) => `meter:${a.meterId}`,
    parse: { colon: { meter: (arg) => ({ type: 'meter', meterId: Number(arg) }) } },
  },
  push: stack('push', NXAST.STACK_PUSH, (a) => a.src),
  pop: stack('pop', NXAST.STACK_POP, (a) => a.dst),
  check_pkt_larger: {
    encode(w, a, cx) {
      checkRef(a.dst);
      if (a.dst.nBits !== 1) throw new OpenFlowCodecError('check_pkt_larger: the destination is one bit');
      const s = nxStart(w, NXAST.CHECK_PKT_LARGER);
      w.u16(a.pktLen)
        .u16(a.dst.ofs)
        .u32(oxmHeader(refCode(a.dst.field, cx.opts)));
      finish(w, s);
    },
    decode: [
      nxForm(NXAST.CHECK_PKT_LARGER, (r) => {
        const pktLen = r.u16();
        const ofs = r.u16();
        return { type: 'check_pkt_larger', pktLen, dst: readRef(r, ofs, 1) };
      }),
    ],
    format: (a) => `check_pkt_larger(${a.pktLen})->${formatFieldRef(a.dst)}`,
    parse: {
      arrow: {
        check_pkt_larger: (body, tail) =>
          /^\d+$/.test(body) ? { type: 'check_pkt_larger', pktLen: Number(body), dst: parseFieldRef(tail) } : undefined,
      },
    },
  },
  clone: {
    encode(w, a, cx) {
      const s = nxStart(w, NXAST.CLONE);
      w.zeros(6);
      cx.encodeList(w, a.actions);
      finish(w, s);
    },
    decode: [
      nxForm(NXAST.CLONE, (r, cx) => {
        r.skip(6);
        return { type: 'clone', actions: cx.decodeList(r) };
      }),
    ],
    format: (a, cx) => `clone(${cx.formatList(a.actions)})`,
    parse: { call: { clone: (body, cx) => ({ type: 'clone', actions: cx.parseList(body) }) } },
  },
  exit: bare('exit', (w) => writeNxEmpty(w, NXAST.EXIT), { type: OFPAT.EXPERIMENTER, subtype: NXAST.EXIT }),
  learn: LEARN,
};
