/**
 * pinctrl's `arp { … };` (ovn-sb(5) "arp"): the IPv4 packet being processed
 * is replaced by an ARP request for its destination, on which the nested
 * actions (run by OVS after resume) then act. The request starts as the
 * action's semantics define it: eth.dst ff:ff:ff:ff:ff:ff, eth.src and VLAN
 * tags unchanged, arp.op 1, arp.sha = eth.src, arp.spa = ip4.src,
 * arp.tha 00:00:00:00:00:00, arp.tpa = ip4.dst.
 */
import { ARP_OP, buildArp } from '../../lib/packet/arp.js';
import { BROADCAST_MAC } from '../../lib/packet/addr.js';
import { ETH_TYPE, buildEthernet, parseEthernet } from '../../lib/packet/ethernet.js';
import { parseIpv4 } from '../../lib/packet/ipv4.js';
import { drop, dropFromError, type Drop } from './drop.js';

/** The ARP request frame for the IPv4 frame `frame`, or a Drop. Never throws. */
export function buildArpRequest(frame: Uint8Array): { readonly frame: Uint8Array } | Drop {
  try {
    const eth = parseEthernet(frame);
    if (eth.header.ethType !== ETH_TYPE.IPV4)
      return drop('unexpected-packet', `arp needs an IPv4 packet, got EtherType 0x${eth.header.ethType.toString(16)}`);
    const ip = parseIpv4(frame, eth.headerLength);
    const arp = buildArp({ op: ARP_OP.REQUEST, sha: eth.header.src, spa: ip.header.src, tha: '00:00:00:00:00:00', tpa: ip.header.dst });
    return { frame: buildEthernet({ dst: BROADCAST_MAC, src: eth.header.src, vlans: eth.header.vlans, ethType: ETH_TYPE.ARP }, arp) };
  } catch (e) {
    return dropFromError(e);
  }
}
