/**
 * pinctrl's `icmp4 { … };` (ovn-sb(5) "icmp4"): the IPv4 packet being
 * processed is replaced by an ICMPv4 error about it, which the nested
 * actions (run by OVS after resume) then adjust. Initial values, per the
 * action's definition: Ethernet addresses, VLAN tags and IP addresses
 * unchanged, ip.ttl 255, icmp4.type 3 (destination unreachable), icmp4.code 1
 * (host unreachable). As the real ovn-controller 23.03 builds it: TOS 0, DF
 * set, IP id 0, and the data quotes the original datagram from its IP header
 * on, cut so that the error's Ethernet frame is at most 576 bytes (RFC 1812
 * section 4.3.2.3).
 */
import { ETH_TYPE, buildEthernet, parseEthernet } from '../../lib/packet/ethernet.js';
import { ICMP4_TYPE, buildIcmp4 } from '../../lib/packet/icmp.js';
import { IP_PROTO, buildIpv4, parseIpv4 } from '../../lib/packet/ipv4.js';
import { drop, dropFromError, type Drop } from './drop.js';

export interface Icmp4ErrorOptions {
  readonly type?: number;
  readonly code?: number;
  /** At most this many bytes of the original datagram (header included) are quoted. */
  readonly maxQuoted?: number;
}

/**
 * The most of the original datagram the real ovn-controller 23.03 quotes:
 * 576 minus Ethernet (14), IP (20) and ICMP (8) headers (measured with a
 * 1028-byte ping in test/compat/pinctrl-real.test.ts).
 */
export const ICMP4_MAX_QUOTED = 576 - 14 - 20 - 8;

/** The ICMPv4 error frame about the IPv4 frame `frame`, or a Drop. Never throws. */
export function buildIcmp4Error(frame: Uint8Array, opts: Icmp4ErrorOptions = {}): { readonly frame: Uint8Array } | Drop {
  try {
    const eth = parseEthernet(frame);
    if (eth.header.ethType !== ETH_TYPE.IPV4)
      return drop('unexpected-packet', `icmp4 needs an IPv4 packet, got EtherType 0x${eth.header.ethType.toString(16)}`);
    const ip = parseIpv4(frame, eth.headerLength);
    const quoted = frame.subarray(eth.headerLength, eth.headerLength + Math.min(ip.totalLength, opts.maxQuoted ?? ICMP4_MAX_QUOTED));
    const icmp = buildIcmp4({ type: opts.type ?? ICMP4_TYPE.DEST_UNREACH, code: opts.code ?? 1, rest: 0, data: quoted });
    const ipOut = buildIpv4(
      {
        tos: 0,
        id: 0,
        df: true,
        mf: false,
        fragOffset: 0,
        ttl: 255,
        protocol: IP_PROTO.ICMP,
        src: ip.header.src,
        dst: ip.header.dst,
        options: new Uint8Array(0),
      },
      icmp,
    );
    return { frame: buildEthernet({ dst: eth.header.dst, src: eth.header.src, vlans: eth.header.vlans, ethType: ETH_TYPE.IPV4 }, ipOut) };
  } catch (e) {
    return dropFromError(e);
  }
}
