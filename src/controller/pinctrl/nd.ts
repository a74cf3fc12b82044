/**
 * pinctrl's `nd_na { … };` and `nd_na_router { … };` (ovn-sb(5)): the IPv6
 * Neighbor Solicitation being processed is replaced by a Neighbor
 * Advertisement (RFC 4861 §4.4) answering it, on which the nested actions
 * (run by OVS after resume) then act — they set eth.src, ip6.src,
 * nd.target and nd.tll to the answering port's, and OVS keeps the ICMPv6
 * checksum right as they do. The advertisement starts as OVN composes it:
 * to the solicitor's MAC and address, from the solicitation's Ethernet
 * destination and target, hop limit 255, flags Solicited and Override (and
 * Router for nd_na_router), a target link-layer address option.
 */
import { finishChecksum, sumWords } from '../../lib/packet/checksum.js';
import { ETH_TYPE, buildEthernet, parseEthernet } from '../../lib/packet/ethernet.js';
import { macFromText } from '../../lib/packet/addr.js';
import { drop, dropFromError, type Drop } from './drop.js';

const IPV6_HEADER_LEN = 40;
const ICMPV6 = 58;
const ND_NS = 135;
const ND_NA = 136;
const NA_LEN = 24;
/** The target link-layer address option (type 2, 8 bytes). */
const TLL_OPTION = 2;
const FLAG_ROUTER = 0x80;
const FLAG_SOLICITED = 0x40;
const FLAG_OVERRIDE = 0x20;

/** The advertisement answering the solicitation `frame`, or a Drop. Never throws. */
export function buildNdNa(frame: Uint8Array, router: boolean): { readonly frame: Uint8Array } | Drop {
  try {
    const eth = parseEthernet(frame);
    if (eth.header.ethType !== ETH_TYPE.IPV6)
      return drop('unexpected-packet', `nd_na needs an IPv6 packet, got EtherType 0x${eth.header.ethType.toString(16)}`);
    const ip = eth.headerLength;
    if (frame.length < ip + IPV6_HEADER_LEN + NA_LEN) return drop('malformed-packet', 'nd_na: the packet is too short for a solicitation');
    if (frame[ip + 6] !== ICMPV6 || frame[ip + IPV6_HEADER_LEN] !== ND_NS)
      return drop('unexpected-packet', 'nd_na needs an ICMPv6 neighbor solicitation');
    const nsSrc = frame.subarray(ip + 8, ip + 24);
    const target = frame.subarray(ip + IPV6_HEADER_LEN + 8, ip + IPV6_HEADER_LEN + 24);
    const src = macFromText(eth.header.dst);
    const out = new Uint8Array(IPV6_HEADER_LEN + NA_LEN + 8);
    const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
    v.setUint32(0, 0x60000000);
    v.setUint16(4, NA_LEN + 8);
    out[6] = ICMPV6;
    out[7] = 255;
    out.set(target, 8);
    out.set(nsSrc, 24);
    const icmp = IPV6_HEADER_LEN;
    out[icmp] = ND_NA;
    out[icmp + 4] = FLAG_SOLICITED | FLAG_OVERRIDE | (router ? FLAG_ROUTER : 0);
    out.set(target, icmp + 8);
    out[icmp + 24] = TLL_OPTION;
    out[icmp + 25] = 1;
    out.set(src, icmp + 26);
    // The pseudo-header (RFC 8200 §8.1): addresses, upper-layer length, next header.
    const pseudo = sumWords(out, 8, 32) + (NA_LEN + 8) + ICMPV6;
    v.setUint16(icmp + 2, finishChecksum(sumWords(out, icmp, NA_LEN + 8, pseudo)));
    return { frame: buildEthernet({ dst: eth.header.src, src: eth.header.dst, vlans: eth.header.vlans, ethType: ETH_TYPE.IPV6 }, out) };
  } catch (e) {
    return dropFromError(e);
  }
}
