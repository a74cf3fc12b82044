/** Shared by the pinctrl unit and compat tests. */
import assert from 'node:assert/strict';
import { parseEthernet, writeEthernet } from '../../src/lib/packet/ethernet.js';
import { parseIpv4, writeIpv4Header } from '../../src/lib/packet/ipv4.js';
import { parseUdp } from '../../src/lib/packet/udp.js';

/**
 * What ls_in_dhcp_response does after pinctrl: `eth.dst = eth.src; eth.src =
 * server_mac; ip4.src = server_id; udp.src = 67; udp.dst = 68;` (OVS fixes
 * the IP checksum; a zero UDP checksum stays zero).
 */
export function applyDhcpResponseFlow(f: Uint8Array, serverMac: string, serverIp: number): Uint8Array {
  const out = Uint8Array.from(f);
  const eth = parseEthernet(out);
  writeEthernet(out, 0, { ...eth.header, dst: eth.header.src, src: serverMac });
  const ip = parseIpv4(out, eth.headerLength);
  writeIpv4Header(out, eth.headerLength, { ...ip.header, src: serverIp }, ip.totalLength - ip.headerLength);
  const u = eth.headerLength + ip.headerLength;
  out.set([0, 67, 0, 68], u);
  assert.equal(parseUdp(out, u).checksum, 0, 'pinctrl leaves the UDP checksum zero');
  return out;
}
