/**
 * The controller's own OpenFlow link against the ovs-ofctl link for the
 * whole OVN table. The seed lab runs with the real ovn-northd and
 * ovn-controller (they supply the SB and the local facts: bindings, ct
 * zones, tunnel and patch ports); for each scenario of
 * controller-flows-vs-real — the seed lab, a remote chassis, MAC bindings
 * and an FDB entry, a localnet port untagged and in VLAN 100, ACLs with
 * conjunctive matches and a load balancer — our computed table is
 * installed on two scratch bridges of the same ovs-vswitchd: through ofctrl
 * over the native link (flows parsed, encoded, one atomic bundle; the Geneve
 * TLV mapped with NXT_TLV_TABLE_MOD) and through ofctrl over `ovs-ofctl`.
 * `ovs-ofctl dump-flows` of both bridges must be the same set and equal to
 * the desired table; a flow the native path refuses fails the install, a
 * flow it alters fails the comparison. A fresh native link reading the table
 * back (what a reconnection does) must find nothing to change.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cleanupAll } from '../helpers/proc.js';
import { runSeedLab, startOvnDatabases, type LabResult } from '../helpers/ovn-lab.js';
import { tmpDir } from '../helpers/proc.js';
import { dumpFlows, flowKey, settledFlows } from '../helpers/flow-compare.js';
import { chassisFacts } from '../helpers/chassis.js';
import { OvsdbClient } from '../../src/ovsdb/client.js';
import { OVS_TABLES } from '../../src/controller/ovs-config.js';
import { tunnelPorts } from '../../src/controller/tunnels.js';
import { localnetOfports } from '../../src/controller/patch.js';
import { OfctlLink, flowOfText } from '../../src/controller/ofctl-link.js';
import type { Flow } from '../../src/openflow/flow.js';
import { OpenFlowLink } from '../../src/controller/openflow-link.js';
import { Ofctrl } from '../../src/controller/ofctrl.js';
import { OVN_GENEVE_OPTION, OVN_GENEVE_TLV } from '../../src/controller/pipeline.js';
import { computeTextFlows } from '../../src/controller/physical.js';

after(cleanupAll);

const NATIVE = 'br-native';
const TEXT = 'br-text';

/** Lines only in `a` and only in `b`. */
function setDiff(a: readonly string[], b: readonly string[]): string {
  const A = new Set(a);
  const B = new Set(b);
  return [...[...A].filter((x) => !B.has(x)).map((x) => `  - ${x}`), ...[...B].filter((x) => !A.has(x)).map((x) => `  + ${x}`)].join('\n');
}

test(
  'every computed flow installs unchanged over the native OpenFlow link (seed lab, remote chassis, MAC bindings, localnet, ACLs + LB)',
  { timeout: 300_000 },
  async (t) => {
    const dbDir = tmpDir('ovnts-native-of');
    const dbs = await startOvnDatabases(dbDir.path, 'real');
    let lab: LabResult | undefined;
    const clients: OvsdbClient[] = [];
    let native: OpenFlowLink | undefined;
    try {
      lab = await runSeedLab({ dbs, northd: 'real', controller: 'real' });
      const l = lab;
      for (const br of [NATIVE, TEXT])
        await l.ovs.vsctl('add-br', br, '--', 'set', 'Bridge', br, 'datapath_type=netdev', 'fail_mode=secure');
      const ovs = new OvsdbClient({
        remotes: l.ovs.dbRemote,
        database: 'Open_vSwitch',
        tables: Object.fromEntries(Object.entries(OVS_TABLES).map(([tb, c]) => [tb, [...c]])),
      });
      const sb = new OvsdbClient({ remotes: dbs.sbRemote, database: 'OVN_Southbound' });
      clients.push(ovs, sb);
      await ovs.start();
      await sb.start();

      const env = { ...process.env, ...l.ovs.env };
      const mgmt = (br: string): string => `unix:${join(l.ovs.env['OVS_RUNDIR']!, `${br}.mgmt`)}`;
      native = new OpenFlowLink({ target: mgmt(NATIVE) });
      native.start();
      await native.ready();
      // The Geneve option map over the native connection (NXT_TLV_TABLE_MOD), twice: the second keeps it.
      await native.ensureTlvMap(OVN_GENEVE_OPTION);
      await native.ensureTlvMap(OVN_GENEVE_OPTION);
      assert.match(await l.ovs.ofctl('-O', 'OpenFlow15', 'dump-tlv-map', NATIVE), /^\s*0x102\s+0x80\s+4\s+tun_metadata0\s*$/m);
      await l.ovs.ofctl('-O', 'OpenFlow15', 'add-tlv-map', TEXT, OVN_GENEVE_TLV);
      const viaNative = new Ofctrl(native);
      const viaText = new Ofctrl(new OfctlLink({ target: TEXT, env }));

      /** Installs the current table both ways and compares what OVS holds. */
      const check = async (step: string): Promise<void> => {
        const errors: string[] = [];
        const desiredText = computeTextFlows(sb, chassisFacts(ovs, sb), (m) => errors.push(m));
        assert.ok(
          errors.every((e) => /ct_lb(_mark)?\(backends=/.test(e)),
          errors.join('\n'),
        );
        // Every flow parses on its own (a refused one is named here rather than failing the whole bundle).
        const refused: string[] = [];
        const desired: Flow[] = [];
        for (const f of desiredText) {
          try {
            desired.push(flowOfText(f));
          } catch (e) {
            refused.push(`${flowKey(f)}: ${(e as Error).message}`);
          }
        }
        assert.deepEqual(refused, [], `${step}: flows the native link refuses`);
        assert.equal(await viaNative.install(desired), true);
        assert.equal(await viaText.install(desiredText), true);
        const n = (await dumpFlows(l.ovs, NATIVE)).map(flowKey).sort();
        const x = (await dumpFlows(l.ovs, TEXT)).map(flowKey).sort();
        // ovs-ofctl reads OVN's `dec_ttl()` (no controller ids) as plain dec_ttl; OVS prints ours back as `dec_ttl()`.
        const want = desiredText.map(flowKey).sort();
        assert.deepEqual(n, want, `${step}: native install differs from the desired table\n${setDiff(want, n)}`);
        assert.deepEqual(
          n.map((s) => s.replaceAll('dec_ttl()', 'dec_ttl')),
          x,
          `${step}: native and ovs-ofctl installs differ\n${setDiff(x, n)}`,
        );
        // The link's own reading of the table (flow stats, decoded) is the desired table, flow for flow.
        const key = (f: Flow): string => `${native!.identity(f)} ${native!.content(f)}`;
        const dumped = await native!.dumpFlows();
        assert.ok(dumped !== undefined, `${step}: the link could not read the installed table back`);
        const read = dumped.map(key).sort();
        const meant = desired.map(key).sort();
        assert.deepEqual(read, meant, `${step}: flow stats read back differ\n${setDiff(meant, read)}`);
        // So a new connection reads the table back and finds nothing to send.
        const again = new Ofctrl(native!);
        const before = { ...again.stats };
        assert.equal(await again.install(desired), true);
        assert.deepEqual(
          [again.stats.flowsAdded, again.stats.flowsModified, again.stats.flowsRemoved],
          [0, 0, 0],
          `${step}: the read-back table differs from the desired one`,
        );
        assert.equal(before.bundles, again.stats.bundles);
        t.diagnostic(`${step}: ${n.length} flows equal over both links`);
      };

      // 1. The seed lab.
      await settledFlows(l.ovs, () => true);
      await sb.waitUntil(() => sb.table('Logical_Flow').size > 0);
      await check('seed lab');

      // 2. A remote chassis with a port of switch dmz bound to it.
      await l.sbctl('chassis-add', 'flows-remote', 'geneve', '192.0.2.2');
      await l.nbctl('lsp-add', 'dmz', 'dmz-remote');
      await l.nbctl('lsp-set-addresses', 'dmz-remote', '02:ac:10:ff:01:40 172.16.255.140');
      await sb.waitUntil(() => [...sb.table('Port_Binding').values()].some((r) => r.scalar('logical_port') === 'dmz-remote'));
      await l.sbctl('lsp-bind', 'dmz-remote', 'flows-remote');
      await settledFlows(l.ovs, (fl) => fl.some((f) => f.actions.includes('tun_id') && f.match.includes('reg15=0x')));
      await ovs.waitUntil(() => [...tunnelPorts(ovs, 'br-int').values()].some((p) => p.ofport !== undefined));
      await check('remote chassis');

      // 3. MAC bindings (IPv4, IPv6) and an FDB entry.
      const lr = (await l.sbctl('--bare', '--columns=_uuid', 'find', 'Datapath_Binding', 'external_ids:name=tenant1')).trim();
      await l.sbctl('create', 'MAC_Binding', 'logical_port=tenant1-dmz', 'ip=172.16.255.150', 'mac="02:00:00:00:00:99"', `datapath=${lr}`);
      await l.sbctl('create', 'MAC_Binding', 'logical_port=tenant1-dmz', 'ip="fe80::99"', 'mac="02:00:00:00:00:98"', `datapath=${lr}`);
      const dmz = (await l.sbctl('--bare', '--columns=_uuid', 'find', 'Datapath_Binding', 'external_ids:name=dmz')).trim();
      await l.sbctl(
        'create',
        'FDB',
        'mac="02:00:00:00:00:77"',
        `dp_key=${(await l.sbctl('get', 'Datapath_Binding', dmz, 'tunnel_key')).trim()}`,
        'port_key=2',
      );
      await sb.waitUntil(() => sb.table('MAC_Binding').size === 2 && sb.table('FDB').size === 1);
      await check('MAC bindings and FDB');

      // 4. A localnet port, untagged and then in VLAN 100.
      await l.ovs.vsctl('add-br', 'br-phys', '--', 'set', 'Bridge', 'br-phys', 'datapath_type=netdev');
      await l.ovs.vsctl('set', 'Open_vSwitch', '.', 'external_ids:ovn-bridge-mappings=physnet1:br-phys');
      await l.nbctl('lsp-add', 'dmz', 'ln-dmz');
      await l.nbctl('lsp-set-type', 'ln-dmz', 'localnet');
      await l.nbctl('lsp-set-addresses', 'ln-dmz', 'unknown');
      await l.nbctl('lsp-set-options', 'ln-dmz', 'network_name=physnet1');
      await settledFlows(l.ovs, (fl) =>
        fl.some((f) => f.table === 0 && f.match.includes('vlan_tci=0x0000/0x1000') && f.match.includes('in_port')),
      );
      await ovs.waitUntil(() => localnetOfports(ovs, 'br-int').size === 1);
      await check('localnet');
      await l.nbctl('set', 'Logical_Switch_Port', 'ln-dmz', 'tag=100');
      await sb.waitUntil(() =>
        [...sb.table('Port_Binding').values()].some((r) => r.scalar('logical_port') === 'ln-dmz' && r.optional('tag') === 100),
      );
      await check('localnet in VLAN 100');

      // 5. ACLs (port group, address set, conjunctive matches, reject) and a load balancer.
      await l.nbctl('pg-add', 'pg1', 'dmz-vm5', 'dmz-c51');
      await l.nbctl('acl-add', 'pg1', 'from-lport', '1001', 'inport == @pg1 && ip4', 'allow-related');
      await l.nbctl(
        'acl-add',
        'dmz',
        'to-lport',
        '1000',
        'ip4.src == {172.16.255.132, 172.16.255.133} && tcp.dst == {80, 443}',
        'allow-related',
      );
      await l.nbctl('create', 'Address_Set', 'name=as1', 'addresses="172.16.255.133","172.16.255.134"');
      await l.nbctl('acl-add', 'dmz', 'to-lport', '1002', 'ip4.src == $as1 && udp.dst == 53', 'drop');
      await l.nbctl('acl-add', 'dmz', 'to-lport', '900', 'outport == "dmz-remote" && icmp4', 'reject');
      await l.nbctl('lb-add', 'lb1', '172.16.255.150:80', '172.16.255.133:8080,172.16.255.134:8080', 'tcp');
      await l.nbctl('ls-lb-add', 'dmz', 'lb1');
      await settledFlows(l.ovs, (fl) => fl.some((f) => /(^|,)conj_id=/.test(f.match)));
      await check('ACLs and a load balancer');

      // 6. Back to fewer flows: removals go through the same bundles.
      await l.nbctl('ls-lb-del', 'dmz', 'lb1');
      await l.nbctl('acl-del', 'dmz');
      await l.nbctl('lsp-del', 'ln-dmz');
      await settledFlows(l.ovs, (fl) => !fl.some((f) => /(^|,)conj_id=/.test(f.match)));
      await check('ACLs, load balancer and localnet removed');
    } finally {
      await native?.stop();
      for (const c of clients) await c.stop?.();
      await lab?.stop();
      await dbs.stop();
      dbDir.cleanup();
    }
  },
);
