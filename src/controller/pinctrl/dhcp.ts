/**
 * pinctrl's answer to `put_dhcp_opts` (ovn-sb(5) "put_dhcp_opts";
 * ovn-architecture(7) "Native OVN services"): the DHCP request that OVS sent
 * up in a packet-in becomes the reply in place, and the result bit tells the
 * later logical flows (ls_in_dhcp_response) to swap addresses and send it
 * back to the port. Those flows set eth.dst, eth.src, ip4.src and the UDP
 * ports; pinctrl sets everything else, as the real ovn-controller 23.03 does
 * (compared frame for frame by test/compat/pinctrl-real.test.ts):
 *
 * - DHCPDISCOVER → DHCPOFFER with yiaddr = offerip.
 * - DHCPREQUEST → DHCPACK when the requested address (option 50, else
 *   ciaddr) is offerip, DHCPNAK (message type option only) otherwise.
 * - DHCPINFORM → DHCPACK without yiaddr and without lease time, T1, T2
 *   (RFC 2131 section 4.3.5) and netmask.
 * - DHCPRELEASE, DHCPDECLINE → no reply: the packet goes on unchanged with
 *   the result bit 0.
 * - The reply copies the request's Ethernet header (VLAN tags kept), IP
 *   header (with new length and checksum, destination offerip, even for a
 *   NAK, or 255.255.255.255 when the client set the broadcast flag) and
 *   UDP ports (checksum 0); the BOOTP fixed part is the request's with op 2,
 *   yiaddr, and siaddr = next_server when configured; options are the message type, then the configured options in
 *   the action's order (bootfile_name_alt folded into option 67 as
 *   ovn-nb(5) says), then 4 zero bytes, the end option and 4 zero bytes
 *   (the reply's option area is as large as the real one's). Request
 *   options such as relay agent information (82) are not echoed, as the
 *   real controller does not echo them.
 */
import { scanEthernet, ETH_TYPE } from '../../lib/packet/ethernet.js';
import { IP_PROTO, parseIpv4, writeIpv4Header, ipv4HeaderLength } from '../../lib/packet/ipv4.js';
import { parseUdp, writeUdpHeader } from '../../lib/packet/udp.js';
import {
  BOOTP_OP,
  DHCP_BROADCAST_FLAG,
  DHCP_FIXED_LEN,
  DHCP_MAGIC_COOKIE,
  DHCP_MSG,
  DHCP_PORT,
  dhcpMessageType,
  dhcpOption,
  dhcpOptionsLength,
  parseDhcp,
  writeDhcpOptions,
  type DhcpOption,
} from '../../lib/packet/dhcp.js';
import { readIpv4, writeIpv4 } from '../../lib/packet/addr.js';
import { DHCP_OPT } from './dhcp-options.js';
import { decodeUserdata, type DecodedUserdata, type DhcpOptionTlv } from './userdata.js';
import { drop, dropFromError, type Drop } from './drop.js';

export interface PutDhcpOptsUserdata {
  readonly offerIp: number;
  readonly options: readonly DhcpOptionTlv[];
}

export interface DhcpAnswer {
  /** The frame to resume with: the reply, or the request unchanged when `result` is false. */
  readonly reply: Uint8Array;
  /** The value for the action's result bit. */
  readonly result: boolean;
  /** The request's and the reply's DHCP message types (reply undefined when none is sent). */
  readonly requestType: number;
  readonly replyType: number | undefined;
}

const BROADCAST_IP = 0xffffffff;
/** Etherboot's option (RFC 2132 leaves 175 site-specific; iPXE sends it). */
const DHCP_OPT_ETHERBOOT = 175;
const DHCP_OPT_BOOTFILE = 67;
const DHCP_OPT_BOOTFILE_ALT = 254;
const DHCP_OPT_NEXT_SERVER = 253;

/**
 * ovn-nb(5) bootfile_name_alt: with both bootfile options configured, option
 * 67 carries bootfile_name when the request has the etherboot option (175)
 * and bootfile_name_alt's value otherwise; option 254 itself is not sent.
 */
function chooseBootfile(options: readonly DhcpOption[], etherboot: boolean): readonly DhcpOption[] {
  const alt = options.find((o) => o.code === DHCP_OPT_BOOTFILE_ALT);
  if (alt === undefined || !options.some((o) => o.code === DHCP_OPT_BOOTFILE)) return options;
  return options
    .filter((o) => o.code !== DHCP_OPT_BOOTFILE_ALT)
    .map((o) => (o.code === DHCP_OPT_BOOTFILE && !etherboot ? { code: DHCP_OPT_BOOTFILE, data: alt.data } : o));
}

/** Options a DHCPINFORM reply leaves out (the client configured its address itself), as the real controller does. */
const INFORM_OMITTED: ReadonlySet<number> = new Set([DHCP_OPT.LEASE_TIME, DHCP_OPT.T1, DHCP_OPT.T2, DHCP_OPT.NETMASK]);

/**
 * `n` zero bytes from Node's buffer pool: a reply is a few hundred bytes, and
 * a backing store of its own per packet costs more than the packet's parsing.
 */
function zeroed(n: number): Uint8Array {
  const b = Buffer.allocUnsafe(n).fill(0);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

/**
 * Answers a DHCPv4 request for `put_dhcp_opts`. `userdata` is the action's
 * controller userdata (bytes or decoded). Never throws: malformed input
 * yields a Drop with a reason for the daemon's counters.
 */
export function answerPutDhcpOpts(frame: Uint8Array, userdata: Uint8Array | DecodedUserdata | PutDhcpOptsUserdata): DhcpAnswer | Drop {
  try {
    return answer(frame, userdata);
  } catch (e) {
    return dropFromError(e);
  }
}

function answer(frame: Uint8Array, userdata: Uint8Array | DecodedUserdata | PutDhcpOptsUserdata): DhcpAnswer | Drop {
  let ud: PutDhcpOptsUserdata;
  if (userdata instanceof Uint8Array) {
    const d = decodeUserdata(userdata);
    if (d.opcode !== 'put_dhcp_opts' || !('offerIp' in d))
      return drop('bad-userdata', `userdata opcode ${String(d.opcode)} is not put_dhcp_opts`);
    ud = d;
  } else if ('offerIp' in userdata) {
    ud = userdata;
  } else {
    return drop('bad-userdata', `userdata opcode ${String(userdata.opcode)} is not put_dhcp_opts`);
  }

  const eth = scanEthernet(frame);
  if (eth.ethType !== ETH_TYPE.IPV4) return drop('unexpected-packet', `EtherType 0x${eth.ethType.toString(16)} is not IPv4`);
  const ip = parseIpv4(frame, eth.headerLength);
  if (ip.header.protocol !== IP_PROTO.UDP) return drop('unexpected-packet', `IP protocol ${ip.header.protocol} is not UDP`);
  if (ip.header.mf || ip.header.fragOffset !== 0) return drop('unexpected-packet', 'IP fragment');
  const udpOffset = eth.headerLength + ip.headerLength;
  const udp = parseUdp(frame.subarray(0, eth.headerLength + ip.totalLength), udpOffset);
  if (udp.header.dstPort !== DHCP_PORT.SERVER) return drop('unexpected-packet', `UDP destination port ${udp.header.dstPort} is not 67`);
  const dhcpOffset = udpOffset + 8;
  const req = parseDhcp(frame, dhcpOffset, udp.length - 8);
  if (req.op !== BOOTP_OP.REQUEST) return drop('not-a-dhcp-request', `BOOTP op ${req.op} is not BOOTREQUEST`);
  const type = dhcpMessageType(req);
  if (type === undefined) return drop('not-a-dhcp-request', 'no DHCP message type option');

  let replyType: number;
  let yiaddr = ud.offerIp;
  switch (type) {
    case DHCP_MSG.DISCOVER:
      replyType = DHCP_MSG.OFFER;
      break;
    case DHCP_MSG.REQUEST: {
      const requested = dhcpOption(req, DHCP_OPT.REQUESTED_IP);
      const addr = requested !== undefined && requested.length === 4 ? readIpv4(requested, 0) : req.ciaddr;
      replyType = addr === ud.offerIp ? DHCP_MSG.ACK : DHCP_MSG.NAK;
      if (replyType === DHCP_MSG.NAK) yiaddr = 0;
      break;
    }
    case DHCP_MSG.INFORM:
      replyType = DHCP_MSG.ACK;
      yiaddr = 0;
      break;
    case DHCP_MSG.RELEASE:
    case DHCP_MSG.DECLINE:
      return { reply: frame, result: false, requestType: type, replyType: undefined };
    default:
      return drop('unsupported-message-type', `DHCP message type ${type}`);
  }

  let configured: readonly DhcpOption[] = chooseBootfile(ud.options, dhcpOption(req, DHCP_OPT_ETHERBOOT) !== undefined);
  // next_server also fills siaddr (the option itself is sent too, as the real controller does).
  const nextServer = configured.find((o) => o.code === DHCP_OPT_NEXT_SERVER && o.data.length === 4);
  if (type === DHCP_MSG.INFORM) configured = configured.filter((o) => !INFORM_OMITTED.has(o.code));
  // The real controller's NAK carries the message type only.
  if (replyType === DHCP_MSG.NAK) configured = [];
  const optsLen = 3 + dhcpOptionsLength(configured);
  // 4 zero bytes, end, 4 zero bytes: the real reply's option area.
  const dhcpLen = DHCP_FIXED_LEN + 4 + optsLen + 9;

  const ipHeader = {
    ...ip.header,
    mf: false,
    fragOffset: 0,
    dst: (req.flags & DHCP_BROADCAST_FLAG) !== 0 ? BROADCAST_IP : ud.offerIp,
  };
  const ipHl = ipv4HeaderLength(ipHeader);
  const out = zeroed(eth.headerLength + ipHl + 8 + dhcpLen);
  // The request's Ethernet header, tags included, as received.
  out.set(frame.subarray(0, eth.headerLength), 0);
  const udpAt = eth.headerLength + ipHl;
  writeIpv4Header(out, eth.headerLength, ipHeader, 8 + dhcpLen);
  writeUdpHeader(out, udpAt, udp.header, dhcpLen);
  // The BOOTP fixed part is the request's but for op, yiaddr and siaddr.
  const at = udpAt + 8;
  out.set(frame.subarray(dhcpOffset, dhcpOffset + DHCP_FIXED_LEN), at);
  out[at] = BOOTP_OP.REPLY;
  writeIpv4(out, at + 16, yiaddr);
  writeIpv4(out, at + 20, nextServer !== undefined && replyType !== DHCP_MSG.NAK ? readIpv4(nextServer.data, 0) : req.siaddr);
  writeIpv4(out, at + DHCP_FIXED_LEN, DHCP_MAGIC_COOKIE);
  const optsAt = at + DHCP_FIXED_LEN + 4;
  out[optsAt] = DHCP_OPT.MESSAGE_TYPE;
  out[optsAt + 1] = 1;
  out[optsAt + 2] = replyType;
  writeDhcpOptions(out, optsAt + 3, configured);
  out[optsAt + optsLen + 4] = DHCP_OPT.END;
  return { reply: out, result: true, requestType: type, replyType };
}
