/**
 * The input of `put_arp(inport, ip, mac)` (ovn-sb(5) "put_arp"): the flow
 * translation loads the IP into reg0 and the MAC into eth.src before the
 * controller action, so a packet-in carries the logical datapath (metadata),
 * the logical input port (reg14, OVN's MFF_LOG_INPORT) and reg0. pinctrl
 * turns that into the MAC_Binding the daemon writes to the SB
 * (ovn-sb(5) "MAC_Binding TABLE": datapath, logical_port, ip, mac).
 */
import { ipv4ToText, macToText } from '../../lib/packet/addr.js';
import { need } from '../../lib/packet/errors.js';
import { drop, dropFromError, type Drop } from './drop.js';

export interface PutArpMetadata {
  /** OpenFlow metadata: the logical datapath's tunnel key. */
  readonly metadata: bigint | number;
  /** reg14: the logical input port's tunnel key. */
  readonly reg14: number;
  /** reg0: the IPv4 address to bind. */
  readonly reg0: number;
}

export interface MacBindingInput {
  readonly datapathKey: number;
  readonly portKey: number;
  /** Dotted quad, as MAC_Binding.ip holds it. */
  readonly ip: string;
  /** `xx:xx:xx:xx:xx:xx`, as MAC_Binding.mac holds it. */
  readonly mac: string;
}

/** The binding for a put_arp packet-in, or a Drop. Never throws. */
export function macBindingFromPutArp(md: PutArpMetadata, frame: Uint8Array): MacBindingInput | Drop {
  try {
    need(frame, 0, 14, 'Ethernet header');
    const dp = BigInt(md.metadata);
    if (dp <= 0n || dp > 0xffffffn) return drop('unexpected-packet', `metadata ${dp} is not a datapath key`);
    if (!Number.isInteger(md.reg14) || md.reg14 <= 0 || md.reg14 > 0xffff)
      return drop('unexpected-packet', `reg14 ${md.reg14} is not a port key`);
    const mac = macToText(frame, 6);
    // A multicast or zero source cannot be bound (OVN would never learn it).
    if ((frame[6]! & 1) !== 0 || mac === '00:00:00:00:00:00') return drop('unexpected-packet', `cannot bind ${mac}`);
    return { datapathKey: Number(dp), portKey: md.reg14, ip: ipv4ToText(md.reg0 >>> 0), mac };
  } catch (e) {
    return dropFromError(e);
  }
}
