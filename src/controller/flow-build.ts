/**
 * Small constructors for the flows the controller builds itself (physical.ts):
 * match fields, protocol shorthands and actions of the flow model
 * (openflow/flow.ts), with OVS's names for fields (ovs-fields(7)) and
 * actions (ovs-actions(7)). They build data; printing is flow-text.ts's.
 */
import { fieldRef, flow, matchField, type Action, type FieldRef, type Flow, type MatchField, type NatSpec } from '../openflow/flow.js';

type Num = number | bigint;

/** `field=value[/mask]` with any of OVS's names for the field (`dl_vlan`, `xxreg0`… are folded as flow.ts does). */
export function eq(field: string, value: Num, mask?: Num): MatchField[] {
  return matchField(field, BigInt(value), mask === undefined ? undefined : BigInt(mask));
}

/** The fields behind ovs-ofctl's protocol shorthands (ovs-fields(7) "Shorthand notation"). */
export const PROTO = {
  ip: eq('dl_type', 0x0800),
  ipv6: eq('dl_type', 0x86dd),
  arp: eq('dl_type', 0x0806),
  tcp: [...eq('dl_type', 0x0800), ...eq('nw_proto', 6)],
  udp: [...eq('dl_type', 0x0800), ...eq('nw_proto', 17)],
  sctp: [...eq('dl_type', 0x0800), ...eq('nw_proto', 132)],
  icmp6: [...eq('dl_type', 0x86dd), ...eq('nw_proto', 58)],
} as const satisfies Record<string, readonly MatchField[]>;

/** A flow with cookie 0 (the match is normalized). */
export function mk(table: number, priority: number, match: readonly (readonly MatchField[])[], actions: readonly Action[]): Flow {
  return flow(table, priority, match.flat(), actions);
}

/** `set_field:value[/mask]->field`. */
export function setField(field: string, value: Num, mask?: Num): Action {
  return mask === undefined
    ? { type: 'set_field', field, value: BigInt(value) }
    : { type: 'set_field', field, value: BigInt(value), mask: BigInt(mask) };
}

/** `resubmit(,table)`. */
export function resubmit(table: number): Action {
  return { type: 'resubmit', table };
}

/** `output:port`. */
export function output(port: number): Action {
  return { type: 'output', port };
}

/** A bit range of a field: `ref('reg14', 0, 15)` is `NXM_NX_REG14[0..14]`; without a range, the whole field. */
export function ref(field: string, ofs?: number, nBits?: number): FieldRef {
  return fieldRef(field, ofs, nBits);
}

/** `move:src->dst`. */
export function move(src: FieldRef, dst: FieldRef): Action {
  return { type: 'move', src, dst };
}

/** `push:src`. */
export function push(src: FieldRef): Action {
  return { type: 'push', src };
}

/** `pop:dst`. */
export function pop(dst: FieldRef): Action {
  return { type: 'pop', dst };
}

/** `ct(commit,zone=…,nat(…))`: commit in a zone held in a register range, with NAT. */
export function ctCommitNat(zone: FieldRef, nat: NatSpec): Action {
  return { type: 'ct', commit: true, zone, nat };
}
