/**
 * The binary OpenFlow 1.5 actions OVN puts inside a `controller(userdata=…)`
 * action for the actions that pinctrl runs on a packet it composes (`arp {…}`,
 * `icmp4 {…}`, `nd_na {…}`…): OpenFlow 1.5 `set_field` (OFPAT_SET_FIELD) and
 * `copy_field` (OFPAT_COPY_FIELD), and the Nicira extensions `stack_push`,
 * `stack_pop` and `resubmit(,table)` (ovs-actions(7); OpenFlow 1.5.1 §7.2.3).
 * Field headers are OXM where OpenFlow has the field and NXM otherwise, as OVS
 * encodes them for OpenFlow 1.5; stack actions use NXM headers.
 */

import { fieldByRefName, fieldBySetName, type OxmCode } from '../../openflow/fields.js';

/** An OXM/NXM header: class, field, payload length in bytes (fields.ts). */
export type FieldHeader = OxmCode;

function headerBytes(hd: FieldHeader, masked: boolean): number[] {
  const len = masked ? hd.bytes * 2 : hd.bytes;
  const fieldByte = (hd.field << 1) | (masked ? 1 : 0);
  const out = [hd.cls >> 8, hd.cls & 0xff, fieldByte, len];
  // OpenFlow 1.5 packet registers are experimenter-less OXM class 0x8001.
  return out;
}

function bigBytes(v: bigint, n: number): number[] {
  const out: number[] = [];
  for (let i = n - 1; i >= 0; i--) out.push(Number((v >> BigInt(8 * i)) & 0xffn));
  return out;
}

function pad8(b: number[]): number[] {
  while (b.length % 8 !== 0) b.push(0);
  return b;
}

function u16(v: number): number[] {
  return [(v >> 8) & 0xff, v & 0xff];
}

/** One action in the encoding the userdata needs. */
export type Ofpact =
  | { readonly type: 'set_field'; readonly field: string; readonly value: bigint; readonly mask?: bigint }
  | {
      readonly type: 'copy_field';
      readonly src: string;
      readonly srcOfs: number;
      readonly dst: string;
      readonly dstOfs: number;
      readonly nBits: number;
    }
  | { readonly type: 'push' | 'pop'; readonly field: string; readonly ofs: number; readonly nBits: number }
  | { readonly type: 'resubmit'; readonly table: number };

/** The set_field/copy_field header of a field named as `set_field` names it (OXM when OpenFlow 1.5 has the field). */
function setHeader(name: string): FieldHeader {
  const hd = fieldBySetName(name)?.oxm;
  if (hd === undefined) throw new Error(`no OpenFlow header for field ${name}`);
  return hd;
}

/** The NXM header stack actions use for a field named as references name it (`NXM_OF_ETH_SRC`). */
function nxmHeader(name: string): FieldHeader {
  const info = fieldByRefName(name);
  const hd = info?.nxm ?? info?.oxm;
  if (hd === undefined) throw new Error(`no NXM header for field ${name}`);
  return hd;
}

/** The copy_field header of an NXM-named field (OXM when OpenFlow 1.5 has it). */
function copyHeader(nxm: string): FieldHeader {
  const hd = fieldByRefName(nxm)?.oxm;
  if (hd === undefined) throw new Error(`no OpenFlow header for field ${nxm}`);
  return hd;
}

/** Encodes actions as OpenFlow 1.5 wire bytes. */
export function encodeOfpacts(acts: readonly Ofpact[]): number[] {
  const out: number[] = [];
  for (const a of acts) {
    switch (a.type) {
      case 'set_field': {
        const hd = setHeader(a.field);
        const masked = a.mask !== undefined;
        const body = [...headerBytes(hd, masked), ...bigBytes(a.value, hd.bytes), ...(masked ? bigBytes(a.mask, hd.bytes) : [])];
        const len = Math.ceil((4 + body.length) / 8) * 8;
        out.push(...pad8([...u16(25), ...u16(len), ...body]));
        break;
      }
      case 'copy_field': {
        const b = [
          ...u16(28),
          ...u16(24),
          ...u16(a.nBits),
          ...u16(a.srcOfs),
          ...u16(a.dstOfs),
          0,
          0,
          ...headerBytes(copyHeader(a.src), false),
          ...headerBytes(copyHeader(a.dst), false),
        ];
        out.push(...pad8(b));
        break;
      }
      case 'push':
      case 'pop': {
        const b = [
          0xff,
          0xff,
          ...u16(24),
          0,
          0,
          0x23,
          0x20,
          ...u16(a.type === 'push' ? 27 : 28),
          ...u16(a.ofs),
          ...headerBytes(nxmHeader(a.field), false),
          ...u16(a.nBits),
        ];
        out.push(...pad8(b));
        break;
      }
      case 'resubmit': {
        out.push(0xff, 0xff, ...u16(16), 0, 0, 0x23, 0x20, ...u16(14), 0xff, 0xf8, a.table, 0, 0, 0);
        break;
      }
    }
  }
  return out;
}

/** Bytes as ovs-ofctl prints userdata: `00.01.de.10`. */
export function dotted(bytes: readonly number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join('.');
}
