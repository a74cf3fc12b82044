/**
 * The packet-in dispatcher: what the controller does with a packet that a
 * logical flow's controller action sent up (ovn-sb(5) Logical_Flow actions
 * `put_dhcp_opts`, `arp`, `icmp4`, `put_arp`; the userdata layout of
 * src/controller/pinctrl/userdata.ts). It decides, the OpenFlow connection
 * carries the decision out:
 *
 * - `resume`: NXT_RESUME of the paused pipeline with this packet and these
 *   field changes (put_dhcp_opts: the reply and the action's result bit);
 * - `packet-out`: a new packet through the nested actions, with the
 *   packet-in's logical fields (arp, icmp4);
 * - `mac-binding`: a MAC_Binding row for the SB (put_arp), see
 *   {@link writeMacBinding};
 * - `drop`: counted by reason, never an exception.
 */
import type { OvsdbClient } from '../ovsdb/client.js';
import { SbModels } from './sb-models.js';
import { encodeResumeRaw, type RawPacketIn2, type RegisterChange } from '../openflow/codec/packet-in2-raw.js';
import { answerPutDhcpOpts } from './pinctrl/dhcp.js';
import { buildArpRequest } from './pinctrl/arp.js';
import { buildIcmp4Error } from './pinctrl/icmp.js';
import { buildNdNa } from './pinctrl/nd.js';
import { macBindingFromPutArp, type MacBindingInput } from './pinctrl/mac-binding.js';
import { decodeUserdata } from './pinctrl/userdata.js';
import { dropFromError, type DropReason } from './pinctrl/drop.js';
import { RateLimit } from '../lib/rate-limit.js';

/** What the connection hands over from an NXT_PACKET_IN2. */
export interface PacketInEvent {
  /** The packet as the pipeline had it when it paused or sent it up. */
  readonly packet: Uint8Array;
  /** The controller action's userdata. */
  readonly userdata: Uint8Array;
  /**
   * The packet-in's metadata fields by OVS name (`metadata`, `reg0`…`reg15`, `xxreg0`…);
   * a function when the connection decodes them only on demand (put_dhcp_opts never reads them).
   */
  readonly fields: ReadonlyMap<string, bigint> | (() => ReadonlyMap<string, bigint>);
}

/** A field change for NXT_RESUME: `field = (field & ~mask) | value`. */
export interface FieldChange {
  readonly field: string;
  readonly value: bigint;
  readonly mask: bigint;
}

export type PacketInVerdict =
  | {
      readonly kind: 'resume';
      readonly packet: Uint8Array;
      readonly set: readonly FieldChange[];
      /** put_dhcp_opts: the DHCP message type of the reply sent (none for a release or decline). */
      readonly dhcpReplyType?: number;
    }
  | { readonly kind: 'packet-out'; readonly packet: Uint8Array; readonly actions: Uint8Array; readonly fields: ReadonlyMap<string, bigint> }
  | { readonly kind: 'mac-binding'; readonly binding: MacBindingInput }
  | { readonly kind: 'drop'; readonly reason: DropReason | 'unsupported-opcode'; readonly detail: string };

/** OVS names of the 32-bit registers inside an xxreg (xxreg0 = reg0..reg3, reg0 the most significant). */
function resultChange(field: string | undefined, ofs: number, on: boolean): FieldChange | undefined {
  if (field === undefined) return undefined;
  const bit = 1n << BigInt(ofs);
  return { field, value: on ? bit : 0n, mask: bit };
}

function fieldsOf(ev: PacketInEvent): ReadonlyMap<string, bigint> {
  return typeof ev.fields === 'function' ? ev.fields() : ev.fields;
}

/** Decides what to do with one packet-in (pure; never throws). */
export function handlePacketIn(ev: PacketInEvent): PacketInVerdict {
  let ud;
  try {
    ud = decodeUserdata(ev.userdata);
  } catch (e) {
    const d = dropFromError(e);
    return { kind: 'drop', reason: d.drop, detail: d.detail };
  }
  switch (ud.opcode) {
    case 'put_dhcp_opts': {
      if (!('result' in ud)) break;
      const a = answerPutDhcpOpts(ev.packet, ud);
      if ('drop' in a) return { kind: 'drop', reason: a.drop, detail: a.detail };
      const ch = resultChange(ud.result.field, ud.result.ofs, a.result);
      if (ch === undefined)
        return {
          kind: 'drop',
          reason: 'bad-userdata',
          detail: `put_dhcp_opts result field 0x${ud.result.header.toString(16)} is not known`,
        };
      return { kind: 'resume', packet: a.reply, set: [ch], ...(a.replyType === undefined ? {} : { dhcpReplyType: a.replyType }) };
    }
    case 'arp':
    case 'icmp': {
      if (!('nested' in ud)) break;
      const r = ud.opcode === 'arp' ? buildArpRequest(ev.packet) : buildIcmp4Error(ev.packet);
      if ('drop' in r) return { kind: 'drop', reason: r.drop, detail: r.detail };
      return { kind: 'packet-out', packet: r.frame, actions: ud.nested, fields: fieldsOf(ev) };
    }
    case 'nd_na':
    case 'nd_na_router': {
      if (!('nested' in ud)) break;
      const r = buildNdNa(ev.packet, ud.opcode === 'nd_na_router');
      if ('drop' in r) return { kind: 'drop', reason: r.drop, detail: r.detail };
      return { kind: 'packet-out', packet: r.frame, actions: ud.nested, fields: fieldsOf(ev) };
    }
    case 'put_arp': {
      const fields = fieldsOf(ev);
      const r = macBindingFromPutArp(
        { metadata: fields.get('metadata') ?? 0n, reg14: Number(fields.get('reg14') ?? 0n), reg0: Number(fields.get('reg0') ?? 0n) },
        ev.packet,
      );
      if ('drop' in r) return { kind: 'drop', reason: r.drop, detail: r.detail };
      return { kind: 'mac-binding', binding: r };
    }
    default:
      break;
  }
  return {
    kind: 'drop',
    reason: 'unsupported-opcode',
    detail: `controller action opcode ${ud.code} (${ud.opcode ?? 'unknown'}) is not handled`,
  };
}

/** Registers per wide register: xreg = 2 (reg 2n the high half), xxreg = 4 (reg 4n the most significant). */
const WIDE_REGISTERS: Readonly<Record<string, number>> = { reg: 1, xreg: 2, xxreg: 4 };

let lastChange: readonly [FieldChange, readonly RegisterChange[]] | undefined;

/** `set` as 32-bit register changes; throws for a field that is not a register (nothing else is set on resume). */
function registerChanges(set: readonly FieldChange[]): readonly RegisterChange[] {
  // Every packet of a flow sets the same result bit: the last answer is usually the one.
  const ch0 = set[0];
  if (set.length === 1 && ch0 !== undefined && lastChange !== undefined) {
    const [was, out] = lastChange;
    if (was.field === ch0.field && was.value === ch0.value && was.mask === ch0.mask) return out;
  }
  const out = splitRegisters(set);
  if (set.length === 1 && ch0 !== undefined) lastChange = [ch0, out];
  return out;
}

function splitRegisters(set: readonly FieldChange[]): RegisterChange[] {
  const out: RegisterChange[] = [];
  for (const ch of set) {
    const m = /^(x{0,2}reg)(\d+)$/.exec(ch.field);
    const words = m === null ? undefined : WIDE_REGISTERS[m[1]!];
    const n = Number(m?.[2]);
    if (words === undefined || (n + 1) * words > 16) throw new Error(`resume: cannot set ${ch.field} (not a register)`);
    for (let w = 0; w < words; w++) {
      const shift = BigInt(32 * (words - 1 - w));
      const mask = Number((ch.mask >> shift) & 0xffffffffn);
      if (mask !== 0) out.push({ index: n * words + w, value: Number((ch.value >> shift) & 0xffffffffn), mask });
    }
  }
  return out;
}

/**
 * NXT_RESUME for a `resume` verdict: the reply, and the packet-in's own
 * metadata bytes with the verdict's register changes, the continuation as
 * received. Throws when the packet-in has no continuation (the action did
 * not pause) or a change is not a register.
 */
export function encodeResumeFor(xid: number, pin: RawPacketIn2, packet: Uint8Array, set: readonly FieldChange[]): Uint8Array {
  if (pin.continuation === undefined) throw new Error('resume wanted but the packet-in has no continuation');
  return encodeResumeRaw(xid, packet, pin.metadata, pin.continuation, registerChanges(set));
}

/** Counts drops by reason and logs each reason at most once per interval (a token bucket per reason). */
export class PacketInStats {
  readonly handled = new Map<string, number>();
  readonly drops = new Map<string, number>();
  private readonly limits = new Map<string, RateLimit>();

  constructor(
    private readonly log: (m: string) => void = () => undefined,
    private readonly intervalMs = 5000,
  ) {}

  record(v: PacketInVerdict): void {
    if (v.kind !== 'drop') {
      this.handled.set(v.kind, (this.handled.get(v.kind) ?? 0) + 1);
      return;
    }
    this.drops.set(v.reason, (this.drops.get(v.reason) ?? 0) + 1);
    let rl = this.limits.get(v.reason);
    // One token, refilled once per interval: the first drop of a reason is logged at once.
    if (rl === undefined && this.intervalMs > 0) this.limits.set(v.reason, (rl = new RateLimit(60_000 / this.intervalMs, 1)));
    // The running count in the line says how many went unlogged.
    if (rl === undefined || rl.allow()) this.log(`packet-in dropped (${v.reason}): ${v.detail} [${this.drops.get(v.reason)} so far]`);
  }
}

/**
 * Records a binding learned by `put_arp` in the SB (ovn-sb(5) MAC_Binding):
 * the datapath and logical port are found by their tunnel keys; an existing
 * row for (logical_port, ip) gets the new MAC and timestamp. Returns false
 * when the datapath or port is unknown (nothing written).
 */
export async function writeMacBinding(
  sb: OvsdbClient,
  b: MacBindingInput,
  now: number = Date.now(),
  models: SbModels = new SbModels(),
): Promise<boolean> {
  let dp: string | undefined;
  for (const r of models.rows(sb, 'Datapath_Binding')) if (r.tunnel_key === b.datapathKey) dp = r._uuid;
  if (dp === undefined) return false;
  let lp: string | undefined;
  for (const r of models.rows(sb, 'Port_Binding')) if (r.datapath === dp && r.tunnel_key === b.portKey) lp = r.logical_port;
  if (lp === undefined) return false;
  for (const r of models.rows(sb, 'MAC_Binding')) {
    if (r.logical_port === lp && r.ip === b.ip) {
      if (r.mac === b.mac) return true;
      await sb.txn().update('MAC_Binding', r._uuid, { mac: b.mac, timestamp: now }).commit();
      return true;
    }
  }
  const txn = sb.txn();
  txn.insert('MAC_Binding', { logical_port: lp, ip: b.ip, mac: b.mac, datapath: ['uuid', dp], timestamp: now });
  await txn.commit();
  return true;
}
