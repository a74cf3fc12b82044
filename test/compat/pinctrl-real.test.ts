/**
 * pinctrl against the real ovn-controller 23.03, live: the seed lab with the
 * real northd and controller, its DHCP options widened to every OVN value
 * type (lists, integers, bool, strings, classless static routes, domain
 * search list).
 *
 * 0. The DHCPv4 option table (name, code, type) equals the SB DHCP_Options rows.
 * 1. userdata: each put_dhcp_opts action in the SB, encoded by us, is among
 *    the userdata the real controller installed on br-int, and the real
 *    flows hold no put_dhcp_opts userdata we do not produce.
 * 2. replies: tcpdump in c51's namespace records dhclient's exchange and
 *    requests we inject there (a NAK-worthy REQUEST, an INFORM, a RELEASE,
 *    a DISCOVER with the broadcast flag). Every request, with the real
 *    userdata, goes through answerPutDhcpOpts; the real reply with the same
 *    xid and type must equal ours after the ls_in_dhcp_response rewrites,
 *    and where the real controller sent nothing we must not answer either.
 * 3. icmp4: a TTL-1 ping through the router gets the real ICMP time
 *    exceeded; ours, built from the same ping, carries the same quoted data.
 * 4. arp: the router's echo reply to a port whose address it does not know
 *    needs arp { … }; the ARP request the real controller sent equals ours
 *    after the action's nested actions.
 *
 * Set OVNTS_PINCTRL_CAPTURE=<dir> to keep the pcap and flow dump.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupAll, run, runOk, spawnDaemon, tmpDir, waitFor } from '../helpers/proc.js';
import { LAB_HOSTS, ROUTER_IP, ROUTER_MAC, SUBNET, runSeedLab, startOvnDatabases, type LabResult } from '../helpers/ovn-lab.js';
import { createNetns, deleteNetns, dhclient, nsRunOk } from '../helpers/netns.js';
import { parseActions } from '../../src/lib/lflow/index.js';
import { fromHex, ipv4FromText, toHex } from '../../src/lib/packet/addr.js';
import { parsePcap } from '../../src/lib/packet/pcap.js';
import { parseEthernet, buildEthernet, ETH_TYPE } from '../../src/lib/packet/ethernet.js';
import { parseIpv4, buildIpv4, IP_PROTO } from '../../src/lib/packet/ipv4.js';
import { parseUdp } from '../../src/lib/packet/udp.js';
import { parseIcmp4 } from '../../src/lib/packet/icmp.js';
import { DHCP_MSG, dhcpMessageType, parseDhcp, type DhcpPacket } from '../../src/lib/packet/dhcp.js';
import { decodeUserdata, dhcpOptionArgs, encodePutDhcpOpts } from '../../src/controller/pinctrl/userdata.js';
import { answerPutDhcpOpts } from '../../src/controller/pinctrl/dhcp.js';
import { DHCPV4_OPTIONS } from '../../src/lib/dhcp-option-codes.js';
import { buildIcmp4Error } from '../../src/controller/pinctrl/icmp.js';
import { buildArpRequest } from '../../src/controller/pinctrl/arp.js';
import { buildArp, parseArp } from '../../src/lib/packet/arp.js';
import { applyDhcpResponseFlow } from '../unit/pinctrl-helpers.js';
import { dhcpClientFrame, dhcpClientPacket } from '../fixtures/packets/index.js';

after(cleanupAll);

/** DHCP options covering every OVN value type; the lab's own four stay. */
const WIDE_OPTIONS = [
  'lease_time=3600',
  `router=${ROUTER_IP}`,
  `server_id=${ROUTER_IP}`,
  `server_mac=${ROUTER_MAC}`,
  'dns_server={8.8.8.8, 1.1.1.1}',
  'mtu=1400',
  'default_ttl=64',
  'ip_forward_enable=1',
  'T1=1800',
  'T2=3150',
  'domain_name="example.com"',
  'classless_static_route={30.0.0.0/24,172.16.255.130, 10.0.0.0/8,172.16.255.131, 0.0.0.0/0,172.16.255.129}',
  'domain_search_list="eng.example.com,example.com,sales.example.org"',
  'tftp_server="tftp.example.com"',
  'bootfile_name="pxelinux.0"',
  'bootfile_name_alt="ipxe.efi"',
  'ntp_server=198.51.100.7',
  'netbios_node_type=2',
];

/** Every other option name put_dhcp_opts accepts (the lab's required four stay). */
const REST_OPTIONS = [
  'lease_time=3600',
  `router=${ROUTER_IP}`,
  `server_id=${ROUTER_IP}`,
  `server_mac=${ROUTER_MAC}`,
  'tftp_server=198.51.100.9',
  'bootfile_name="undionly.kpxe"',
  'bootfile_name_alt="snp.efi"',
  'ms_classless_static_route={198.51.100.0/25,172.16.255.130, 0.0.0.0/0,172.16.255.129}',
  'wpad="http://wpad.example.com/wpad.dat"',
  'path_prefix="/tftpboot"',
  'next_server=198.51.100.10',
  'broadcast_address=172.16.255.191',
  'hostname="c51-host"',
  'tftp_server_address={198.51.100.11, 198.51.100.12}',
  'swap_server=198.51.100.13',
  'policy_filter={198.51.100.14, 198.51.100.15}',
  'router_discovery=0',
  'ethernet_encap=1',
  'tcp_ttl=65',
  'arp_cache_timeout=120',
  'tcp_keepalive_interval=300',
  'log_server=198.51.100.16',
  'lpr_server=198.51.100.17',
  'nis_server=198.51.100.18',
  'netbios_name_server=198.51.100.19',
  'router_solicitation=198.51.100.20',
];

interface DhcpFrame {
  readonly frame: Uint8Array;
  readonly dhcp: DhcpPacket;
  readonly toServer: boolean;
}

function dhcpFrames(pcapFile: string): DhcpFrame[] {
  const out: DhcpFrame[] = [];
  for (const r of parsePcap(readFileSync(pcapFile)).records) {
    const eth = parseEthernet(r.data);
    if (eth.header.ethType !== ETH_TYPE.IPV4) continue;
    const ip = parseIpv4(r.data, eth.headerLength);
    if (ip.header.protocol !== IP_PROTO.UDP) continue;
    const udp = parseUdp(r.data, eth.headerLength + ip.headerLength);
    if (udp.header.dstPort !== 67 && udp.header.dstPort !== 68) continue;
    out.push({ frame: r.data, dhcp: parseDhcp(udp.payload), toServer: udp.header.dstPort === 67 });
  }
  return out;
}

async function inject(ns: string, iface: string, frame: Uint8Array): Promise<void> {
  const py =
    'import socket,sys\ns=socket.socket(socket.AF_PACKET, socket.SOCK_RAW)\ns.bind((sys.argv[1], 0))\ns.send(bytes.fromhex(sys.argv[2]))';
  await nsRunOk(ns, 'python3', ['-c', py, iface, toHex(frame)]);
}

/**
 * Sets `options` on the lab's DHCP_Options, waits for the chassis, and checks
 * that our encoding of every put_dhcp_opts action in the SB is among the real
 * controller's userdata and that the real flows hold no other.
 */
async function compareUserdata(
  lab: LabResult,
  dhcpUuid: string,
  options: readonly string[],
  marker: string,
): Promise<{ flows: string; realUserdata: Set<string>; distinct: number }> {
  await lab.nbctl('dhcp-options-set-options', dhcpUuid, ...options);
  await lab.nbctl('--wait=hv', 'sync');
  const flows = await lab.ovs.ofctl('-O', 'OpenFlow15', 'dump-flows', 'br-int');
  const realUserdata = new Set([...flows.matchAll(/userdata=(00\.00\.00\.02\.[0-9a-f.]+)/g)].map((m) => m[1]!.replace(/\./g, '')));
  const sbActions = (await lab.sbctl('--bare', '--columns=actions', 'find', 'Logical_Flow', 'external_ids:stage-name=ls_in_dhcp_options'))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.includes('put_dhcp_opts'));
  assert.ok(sbActions.length >= 6, `put_dhcp_opts flows in the SB: ${sbActions.length}`);
  assert.ok(
    sbActions.every((a) => a.includes(marker)),
    `the SB has the new options (${marker})`,
  );
  const ours = new Set<string>();
  for (const text of sbActions) {
    const a = parseActions(text).find((x) => x.type === 'result' && x.name === 'put_dhcp_opts');
    assert.ok(a && a.type === 'result');
    const hex = toHex(encodePutDhcpOpts({ field: a.dst.name, bit: a.dst.lo ?? 0 }, dhcpOptionArgs(a.args)));
    ours.add(hex);
    assert.ok(
      realUserdata.has(hex),
      `our userdata for\n  ${text}\n  ${hex}\nis not among the real controller's:\n  ${[...realUserdata].join('\n  ')}`,
    );
  }
  assert.deepEqual(
    [...realUserdata].filter((u) => !ours.has(u)),
    [],
    'real put_dhcp_opts userdata we do not produce',
  );
  return { flows, realUserdata, distinct: ours.size };
}

const ROUND2_XID = 0x22220001;
const SENTINEL_XID = 0x111100ff;
const X_MAC = '02:ac:10:ff:01:96';
const X_IP = '172.16.255.150';
const icmpOf = (f: Uint8Array) => parseIcmp4(parseIpv4(f, 14).payload).message;

/** Waits until tcpdump has opened the interface and written the pcap header. */
async function waitForCapture(file: string): Promise<void> {
  await waitFor(() => existsSync(file) && statSync(file).size >= 24, { what: `tcpdump writing ${file}`, timeoutMs: 15000 });
}

/** Captured frames satisfying `pred`; a record still being written is not counted. */
function countRecords(file: string, pred: (f: Uint8Array) => boolean): number {
  let recs: Uint8Array[];
  try {
    recs = parsePcap(readFileSync(file)).records.map((r) => r.data);
  } catch {
    return 0;
  }
  return recs.filter((f) => {
    try {
      return pred(f);
    } catch {
      return false;
    }
  }).length;
}

const isIcmp = (f: Uint8Array): boolean =>
  parseEthernet(f).header.ethType === ETH_TYPE.IPV4 && parseIpv4(f, 14).header.protocol === IP_PROTO.ICMP;

/** Waits (up to 15 s) for DHCP replies with these xids; a missing one is reported by the comparison afterwards. */
async function waitForReplies(file: string, xids: readonly number[]): Promise<void> {
  await waitFor(
    () => {
      let got: Set<number>;
      try {
        got = new Set(
          dhcpFrames(file)
            .filter((f) => !f.toServer)
            .map((f) => f.dhcp.xid),
        );
      } catch {
        return false;
      }
      return xids.every((x) => got.has(x));
    },
    { what: `DHCP replies ${xids.map((x) => x.toString(16)).join(', ')}`, timeoutMs: 15000 },
  ).catch(() => undefined);
}

test('pinctrl vs the real ovn-controller: put_dhcp_opts userdata, DHCP replies, ICMP time exceeded', { timeout: 240_000 }, async (t) => {
  const dbDir = tmpDir('ovnts-pinctrl-dbs');
  const work = tmpDir('ovnts-pinctrl');
  const dbs = await startOvnDatabases(dbDir.path, 'real');
  const lines: string[] = [];
  let lab: LabResult | undefined;
  let xNetns: string | undefined;
  try {
    lab = await runSeedLab({ dbs, northd: 'real', controller: 'real', log: (l) => lines.push(l) });
    const c51 = lab.hosts.find((h) => h.name === 'c51')!;
    assert.equal(c51.address, '172.16.255.133/26', `lab DHCP failed:\n${lines.join('\n')}`);
    const spec = LAB_HOSTS.find((h) => h.name === 'c51')!;

    // --- 0. The DHCPv4 option table equals the SB DHCP_Options rows the real northd wrote.
    const sbOpts = (await lab.sbctl('--format=csv', '--no-headings', '--columns=name,code,type', 'list', 'DHCP_Options'))
      .trim()
      .split('\n')
      .map((l) =>
        l
          .split(',')
          .map((x) => x.replace(/^"|"$/g, ''))
          .join(' '),
      )
      .sort();
    const ourOpts = [...DHCPV4_OPTIONS.values()].map((d) => `${d.name} ${d.code} ${d.type}`).sort();
    assert.deepEqual(ourOpts, sbOpts, 'DHCPv4 option names, codes and types');

    // --- 1. userdata, with the widened options.
    const dhcpUuid = (await lab.nbctl('--bare', '--columns=_uuid', 'find', 'DHCP_Options', `cidr="${SUBNET}"`)).trim();
    const { flows, realUserdata, distinct } = await compareUserdata(lab, dhcpUuid, WIDE_OPTIONS, 'domain_search_list');
    t.diagnostic(`userdata: ${distinct} distinct put_dhcp_opts encodings equal to the real ones`);

    // --- 2. DHCP exchanges in c51's namespace.
    const pcapFile = join(work.path, 'c51.pcap');
    const td = await spawnDaemon(
      'ip',
      ['netns', 'exec', c51.netns, 'tcpdump', '-i', 'c51', '-U', '-n', '-w', pcapFile, 'udp port 67 or udp port 68 or icmp'],
      {
        name: 'tcpdump',
      },
    );
    await waitForCapture(pcapFile);
    await nsRunOk(c51.netns, 'ip', ['addr', 'flush', 'dev', 'c51']);
    const lease = await dhclient(c51.netns, 'c51', { dir: work.path, timeoutS: 20 });
    const mac = spec.mac;
    const offer = ipv4FromText(spec.ip);
    const base = dhcpClientPacket(mac);
    const msg = (type: number, extra: { code: number; data: Uint8Array }[] = []): { code: number; data: Uint8Array }[] => [
      { code: 53, data: Uint8Array.of(type) },
      ...extra,
      { code: 55, data: Uint8Array.of(1, 3, 6, 15, 119, 121) },
    ];
    const bcast = 0xffffffff;
    const injected: { what: string; frame: Uint8Array }[] = [
      {
        what: 'REQUEST for a foreign address',
        frame: dhcpClientFrame(mac, 0, bcast, {
          ...base,
          xid: 0x11110001,
          options: msg(DHCP_MSG.REQUEST, [{ code: 50, data: fromHex('ac10ff99') }]),
        }),
      },
      {
        what: 'INFORM',
        frame: dhcpClientFrame(mac, offer, bcast, { ...base, xid: 0x11110002, ciaddr: offer, options: msg(DHCP_MSG.INFORM) }),
      },
      {
        what: 'DISCOVER with the broadcast flag',
        frame: dhcpClientFrame(mac, 0, bcast, { ...base, xid: 0x11110003, flags: 0x8000, options: msg(DHCP_MSG.DISCOVER) }),
      },
      {
        what: 'DISCOVER with a chaddr other than eth.src',
        frame: dhcpClientFrame(mac, 0, bcast, {
          ...base,
          xid: 0x11110005,
          chaddr: fromHex('02000000beef00000000000000000000'),
          options: msg(DHCP_MSG.DISCOVER),
        }),
      },
      {
        what: 'BOOTP request without a DHCP message type',
        frame: dhcpClientFrame(mac, 0, bcast, { ...base, xid: 0x11110006, options: [{ code: 55, data: Uint8Array.of(1, 3) }] }),
      },
      {
        what: 'DECLINE',
        frame: dhcpClientFrame(mac, 0, bcast, {
          ...base,
          xid: 0x11110007,
          options: msg(DHCP_MSG.DECLINE, [
            { code: 50, data: fromHex('ac10ff85') },
            { code: 54, data: fromHex('ac10ff81') },
          ]),
        }),
      },
      {
        what: 'renewing REQUEST (ciaddr, no option 50)',
        frame: dhcpClientFrame(mac, offer, ipv4FromText(ROUTER_IP), {
          ...base,
          xid: 0x11110008,
          ciaddr: offer,
          options: msg(DHCP_MSG.REQUEST),
        }),
      },
      {
        what: 'renewing REQUEST for a foreign ciaddr',
        frame: dhcpClientFrame(mac, offer, ipv4FromText(ROUTER_IP), {
          ...base,
          xid: 0x11110009,
          ciaddr: ipv4FromText('172.16.255.134'),
          options: msg(DHCP_MSG.REQUEST),
        }),
      },
      {
        what: 'REQUEST naming another server',
        frame: dhcpClientFrame(mac, 0, bcast, {
          ...base,
          xid: 0x1111000a,
          options: msg(DHCP_MSG.REQUEST, [
            { code: 50, data: fromHex('ac10ff85') },
            { code: 54, data: fromHex('c6336401') },
          ]),
        }),
      },
      {
        what: 'DISCOVER with relay agent information (82)',
        frame: dhcpClientFrame(mac, 0, bcast, {
          ...base,
          xid: 0x1111000b,
          options: msg(DHCP_MSG.DISCOVER, [{ code: 82, data: fromHex('0104000000330206020000000001') }]),
        }),
      },
      {
        what: 'RELEASE',
        frame: dhcpClientFrame(mac, offer, ipv4FromText(ROUTER_IP), {
          ...base,
          xid: 0x11110004,
          ciaddr: offer,
          options: msg(DHCP_MSG.RELEASE, [{ code: 54, data: fromHex('ac10ff81') }]),
        }),
      },
    ];
    for (const i of injected) await inject(c51.netns, 'c51', i.frame);
    // The real controller handles packet-ins in order: once the last one is
    // answered, every earlier one has been answered or ignored.
    await inject(c51.netns, 'c51', dhcpClientFrame(mac, 0, bcast, { ...base, xid: SENTINEL_XID, options: msg(DHCP_MSG.DISCOVER) }));
    await waitForReplies(pcapFile, [SENTINEL_XID]);
    // --- 3. A TTL-1 ping through the router (dhclient installed the default route).
    await run('ip', ['netns', 'exec', c51.netns, 'ping', '-c', '1', '-W', '2', '-t', '1', '198.51.100.1']);
    await run('ip', ['netns', 'exec', c51.netns, 'ping', '-c', '1', '-W', '2', '-t', '1', '-s', '1000', '198.51.100.1']);
    await lease.stop();
    // --- 1b. userdata for the option names not used above (tftp_server as an
    // address), and the replies with them.
    const round2 = await compareUserdata(lab, dhcpUuid, REST_OPTIONS, 'ms_classless_static_route');
    t.diagnostic(`userdata (remaining options): ${round2.distinct} distinct encodings equal to the real ones`);
    await inject(c51.netns, 'c51', dhcpClientFrame(mac, 0, bcast, { ...base, xid: ROUND2_XID, options: msg(DHCP_MSG.DISCOVER) }));
    await inject(
      c51.netns,
      'c51',
      dhcpClientFrame(mac, 0, bcast, {
        ...base,
        xid: ROUND2_XID + 1,
        options: msg(DHCP_MSG.REQUEST, [{ code: 50, data: fromHex('ac10ff85') }]),
      }),
    );
    await waitForReplies(pcapFile, [ROUND2_XID, ROUND2_XID + 1]);
    await waitFor(() => countRecords(pcapFile, (f) => isIcmp(f) && icmpOf(f).type === 11) >= 2, {
      what: 'both ICMP time exceeded in the capture',
      timeoutMs: 10000,
    }).catch(() => undefined);
    await td.stop();
    if (process.env['OVNTS_PINCTRL_CAPTURE']) {
      copyFileSync(pcapFile, join(process.env['OVNTS_PINCTRL_CAPTURE'], 'c51-wide.pcap'));
      writeFileSync(join(process.env['OVNTS_PINCTRL_CAPTURE'], 'flows.txt'), flows);
      writeFileSync(join(process.env['OVNTS_PINCTRL_CAPTURE'], 'flows-rest.txt'), round2.flows);
    }

    // The real userdata for c51's broadcast-source flow (offerip first in it).
    const userdataFor = (set: Set<string>): Uint8Array => {
      const u = [...set]
        .map((h) => fromHex(h))
        .find((x) => {
          const d = decodeUserdata(x);
          return 'offerIp' in d && d.offerIp === offer;
        });
      assert.ok(u, 'real userdata for c51');
      return u;
    };
    const c51Userdata = userdataFor(realUserdata);
    const c51Userdata2 = userdataFor(round2.realUserdata);
    const frames = dhcpFrames(pcapFile);
    const requests = frames.filter((f) => f.toServer);
    const replies = frames.filter((f) => !f.toServer);
    assert.ok(requests.length >= 6, `requests captured: ${requests.length}`);
    let compared = 0;
    const seen = new Set<string>();
    for (const req of requests) {
      const type = dhcpMessageType(req.dhcp);
      const key = `${req.dhcp.xid}/${type}`;
      if (seen.has(key)) continue; // dhclient retransmissions
      seen.add(key);
      const ours = answerPutDhcpOpts(req.frame, req.dhcp.xid >= ROUND2_XID && req.dhcp.xid <= ROUND2_XID + 1 ? c51Userdata2 : c51Userdata);
      const real = replies.filter((r) => r.dhcp.xid === req.dhcp.xid);
      if ('drop' in ours || !ours.result) {
        assert.equal(real.length, 0, `the real controller answered a type-${type} request`);
        continue;
      }
      const expected = real.find((r) => dhcpMessageType(r.dhcp) === ours.replyType);
      assert.ok(
        expected,
        `no real type-${ours.replyType} reply for xid ${req.dhcp.xid.toString(16)}; real: ${real.map((r) => dhcpMessageType(r.dhcp)).join(',')}`,
      );
      assert.equal(
        toHex(applyDhcpResponseFlow(ours.reply, ROUTER_MAC, ipv4FromText(ROUTER_IP))),
        toHex(expected.frame),
        `reply to type ${type} xid ${req.dhcp.xid.toString(16)}`,
      );
      compared++;
    }
    t.diagnostic(`DHCP replies equal to the real ones: ${compared}`);
    assert.ok(compared >= 12, `compared ${compared} replies`);

    // --- ICMP time exceeded.
    const icmp = parsePcap(readFileSync(pcapFile))
      .records.map((r) => r.data)
      .filter((f) => {
        const e = parseEthernet(f);
        return e.header.ethType === ETH_TYPE.IPV4 && parseIpv4(f, e.headerLength).header.protocol === IP_PROTO.ICMP;
      });
    const pings = icmp.filter((f) => icmpOf(f).type === 8);
    const errors = icmp.filter((f) => icmpOf(f).type === 11);
    assert.equal(pings.length, 2, `pings captured (${icmp.length} ICMP frames)`);
    assert.equal(errors.length, 2, `time exceeded captured (${icmp.length} ICMP frames)`);
    for (const [i, ping] of pings.entries()) {
      const mine = buildIcmp4Error(ping);
      assert.ok(!('drop' in mine), JSON.stringify(mine));
      const realIp = parseIpv4(errors[i]!, 14);
      const mineIp = parseIpv4(mine.frame, 14);
      assert.equal(mineIp.totalLength, realIp.totalLength, `ICMP error size for a ${parseIpv4(ping, 14).totalLength}-byte datagram`);
      // Quoted datagram: the real one went through the router, which does not touch it.
      assert.equal(toHex(icmpOf(mine.frame).data), toHex(icmpOf(errors[i]!).data), 'quoted original datagram');
    }
    t.diagnostic(`ICMP time exceeded quoting equal to the real one for ${pings.length} pings`);

    // --- 4. arp { … }: a port whose address the router does not know (addresses
    // "unknown"); its host knows the router's MAC, so only the router's echo
    // reply needs ARP resolution, which lr_in_arp_request does with arp { … }.
    const xNs = `${lab.id}-x`;
    await createNetns(xNs);
    xNetns = xNs;
    await lab.nbctl('lsp-add', 'dmz', 'dmz-x');
    await lab.nbctl('lsp-set-addresses', 'dmz-x', 'unknown');
    await lab.ovs.vsctl('add-port', 'br-int', 'x', '--', 'set', 'Interface', 'x', 'type=internal', 'external_ids:iface-id=dmz-x');
    await waitFor(async () => (await run('ip', ['-n', lab!.hvNetns, 'link', 'show', 'x'])).code === 0, { what: 'tap x' });
    await runOk('ip', ['-n', lab.hvNetns, 'link', 'set', 'x', 'address', X_MAC]);
    await runOk('ip', ['-n', lab.hvNetns, 'link', 'set', 'x', 'netns', xNs]);
    await nsRunOk(xNs, 'ip', ['link', 'set', 'x', 'up']);
    await nsRunOk(xNs, 'ip', ['addr', 'add', `${X_IP}/26`, 'dev', 'x']);
    await nsRunOk(xNs, 'ip', ['neigh', 'add', ROUTER_IP, 'lladdr', ROUTER_MAC, 'dev', 'x', 'nud', 'permanent']);
    await waitFor(async () => (await lab!.nbctl('get', 'Logical_Switch_Port', 'dmz-x', 'up')).trim() === 'true', {
      what: 'dmz-x up',
      timeoutMs: 30000,
    });
    await lab.nbctl('--wait=hv', 'sync');
    const xPcap = join(work.path, 'x.pcap');
    const tdx = await spawnDaemon('ip', ['netns', 'exec', xNs, 'tcpdump', '-i', 'x', '-U', '-n', '-w', xPcap, 'arp or icmp'], {
      name: 'tcpdump',
    });
    await waitForCapture(xPcap);
    await run('ip', ['netns', 'exec', xNs, 'ping', '-c', '2', '-W', '2', ROUTER_IP]);
    await waitFor(() => countRecords(xPcap, (f) => parseEthernet(f).header.ethType === ETH_TYPE.ARP) > 0, {
      what: 'ARP in the capture',
      timeoutMs: 10000,
    }).catch(() => undefined);
    await tdx.stop();
    if (process.env['OVNTS_PINCTRL_CAPTURE']) copyFileSync(xPcap, join(process.env['OVNTS_PINCTRL_CAPTURE'], 'x.pcap'));
    const xFrames = parsePcap(readFileSync(xPcap)).records.map((r) => r.data);
    const echo = xFrames.find((f) => parseEthernet(f).header.ethType === ETH_TYPE.IPV4 && icmpOf(f).type === 8);
    const routerArp = xFrames.find((f) => {
      const e = parseEthernet(f);
      return e.header.ethType === ETH_TYPE.ARP && e.header.src === ROUTER_MAC && parseArp(f, e.headerLength).op === 1;
    });
    assert.ok(echo && routerArp, `echo request and the router's ARP request captured (${xFrames.length} frames)`);
    // The echo reply as lr_in_arp_request sees it: routed (eth.src = router
    // port MAC, eth.dst unresolved), addresses swapped.
    const e = parseIpv4(echo, 14);
    const reply = buildEthernet(
      { dst: '00:00:00:00:00:00', src: ROUTER_MAC, vlans: [], ethType: ETH_TYPE.IPV4 },
      buildIpv4({ ...e.header, src: e.header.dst, dst: e.header.src }, e.payload),
    );
    const mineArp = buildArpRequest(reply);
    assert.ok(!('drop' in mineArp), JSON.stringify(mineArp));
    // Nested: eth.dst = ff:ff:ff:ff:ff:ff; arp.spa = reg1 (router IP); arp.tpa = reg0 (next hop); arp.op = 1.
    const a = parseArp(mineArp.frame, 14);
    const afterNested = buildEthernet(
      parseEthernet(mineArp.frame).header,
      buildArp({ ...a, spa: ipv4FromText(ROUTER_IP), tpa: ipv4FromText(X_IP), op: 1 }),
    );
    assert.equal(toHex(afterNested), toHex(routerArp), 'ARP request');
    t.diagnostic('arp { … }: ARP request equal to the real one');
  } finally {
    if (xNetns !== undefined) await deleteNetns(xNetns);
    await lab?.stop();
    await dbs.stop();
    dbDir.cleanup();
    work.cleanup();
  }
});
