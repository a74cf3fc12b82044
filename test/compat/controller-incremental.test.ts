/**
 * Incremental flow computation in `ovnts controller` (OVN's
 * CHECK_NO_CHANGE_AFTER_RECOMPUTE for the chassis): real NB/SB ovsdb-servers,
 * the real ovn-northd and a private userspace OVS in a namespace, our
 * controller daemon computing each pass incrementally. After each of a series
 * of SB/NB/OVS changes — a port bound, an ACL on a port group and address
 * set, the address set changed, a MAC_Binding, a remote chassis with a port,
 * a datapath becoming local and no longer local, a port and an ACL removed —
 *
 * - the table the daemon installed (read back with `ovs-ofctl dump-flows`)
 *   equals the one it installs after `ovn-appctl recompute` (computed from
 *   scratch), and equals `computeTextFlows` from scratch on the same replicas;
 * - an incremental `FlowComputer` kept in this process across the steps
 *   gives the same table as `computeTextFlows`, translating only a part.
 *
 * Finally our controller stops and the real ovn-controller takes over the
 * same chassis: its table equals ours (computed with the conntrack zones it
 * picked) — including `put_dhcp_opts` with
 * domain_search_list, tftp_server and bootfile_name (pinctrl's encoder, the
 * option order the real one uses).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createNetns, runId } from '../helpers/netns.js';
import { addInternalVif, startOvs } from '../helpers/ovs.js';
import { startCentral, setChassisConfig, startOvntsControllerWithSocket, startRealController } from '../helpers/chassis.js';
import { cleanupAll, run, spawnDaemon, tmpDir, waitFor } from '../helpers/proc.js';
import { dumpFlows, flowKey, keyDiff, tableKeys, ttlKeys } from '../helpers/flow-compare.js';
import { OvsdbClient } from '../../src/ovsdb/client.js';
import { OVS_TABLES, findBridge, ovsRootRow, parseChassisConfig } from '../../src/controller/ovs-config.js';
import { computeBindings } from '../../src/controller/binding.js';
import { tunnelPorts } from '../../src/controller/tunnels.js';
import { localnetOfports } from '../../src/controller/patch.js';
import type { ChassisFacts } from '../../src/controller/controller.js';
import { computeTextFlows, createFlowComputer } from '../../src/controller/physical.js';
import { flowOfText, textFlowOf, type TextFlow } from '../../src/controller/ofctl-link.js';
import { nbctlChain, switchBehindRouter } from '../helpers/nb-topology.js';

after(cleanupAll);

/** The facts the daemon used: its bindings from the replicas, the ct zones it stored on br-int. */
function factsOf(ovs: OvsdbClient, sb: OvsdbClient): ChassisFacts {
  const root = ovsRootRow(ovs);
  assert.ok(root, 'Open_vSwitch row');
  const config = parseChassisConfig(root);
  const chassis = [...sb.table('Chassis').values()].find((r) => r.scalar('name') === config.systemId);
  assert.ok(chassis, `Chassis ${config.systemId}`);
  const br = findBridge(ovs, config.bridge);
  assert.ok(br, config.bridge);
  const ctZones = new Map<string, number>();
  for (const [k, v] of br.map('external_ids'))
    if (String(k).startsWith('ct-zone-')) ctZones.set(String(k).slice('ct-zone-'.length), Number(v));
  return {
    config,
    chassisUuid: chassis.uuid,
    bindings: computeBindings(ovs, sb, config.bridge, chassis.uuid, config.systemId),
    tunnels: tunnelPorts(ovs, config.bridge),
    ctZones,
    localnetPorts: localnetOfports(ovs, config.bridge),
  };
}

/** A flow whose action is `put_dhcp_opts` (controller userdata with opcode 2). */
const isPutDhcpOpts = (k: string): boolean => k.includes('controller(userdata=00.00.00.02.');
/** "pxelinux.0" as the userdata spells it. */
const PXELINUX = [...Buffer.from('pxelinux.0')].map((b) => b.toString(16).padStart(2, '0')).join('.');

test(
  'ovnts controller: incremental passes install what a recompute installs, and what the real ovn-controller installs',
  { timeout: 400_000 },
  async (t) => {
    const tmp = tmpDir('ovnts-ctl-incr');
    const dir = tmp.path;
    const lines: string[] = [];
    const log = (l: string): void => void lines.push(l);
    const central = await startCentral(dir, { log, ctlTimeoutS: 60 });
    const { dbs, nb, sb: sbctl } = central;
    const id = runId();
    const ns = await createNetns(`${id}-hv`);
    const ovs = await startOvs({ netns: ns, log });
    const systemId = `${id}-chassis`;
    await setChassisConfig(ovs, { systemId, sbRemote: dbs.sbRemote });
    const { daemon: ours, sock } = await startOvntsControllerWithSocket(ovs, dir, log);
    const ovsC = new OvsdbClient({
      remotes: ovs.dbRemote,
      database: 'Open_vSwitch',
      tables: Object.fromEntries(Object.entries(OVS_TABLES).map(([tb, c]) => [tb, [...c]])),
    });
    const sbC = new OvsdbClient({ remotes: dbs.sbRemote, database: 'OVN_Southbound' });
    let real: Awaited<ReturnType<typeof spawnDaemon>> | undefined;
    try {
      await ovsC.start();
      await sbC.start();
      const up = (lsp: string): Promise<unknown> =>
        waitFor(async () => (await nb('get', 'Logical_Switch_Port', lsp, 'up')).trim() === 'true', {
          what: `${lsp} up`,
          timeoutMs: 90_000,
        });
      const observer = createFlowComputer();
      let stepNo = 0;
      /** Both replicas here have caught up with everything done before this call. */
      const replicasCaughtUp = async (): Promise<void> => {
        const mark = String(++stepNo);
        await ovs.vsctl('set', 'Open_vSwitch', '.', `external_ids:ovnts-test-step=${mark}`);
        await ovsC.waitUntil(() => ovsRootRow(ovsC)?.map('external_ids').get('ovnts-test-step') === mark, 30_000);
        await nb('--wait=hv', 'sync');
        const nbCfg = Number((await nb('get', 'NB_Global', '.', 'nb_cfg')).trim());
        await sbC.waitUntil(() => [...sbC.table('SB_Global').values()].some((g) => Number(g.scalar('nb_cfg')) >= nbCfg), 30_000);
      };
      const appctl = (...a: string[]): ReturnType<typeof run> => run('ovn-appctl', ['-t', sock, '--timeout=60', ...a]);

      const check = async (name: string): Promise<void> => {
        await replicasCaughtUp();
        // The daemon's table, after the incremental passes this change caused.
        const installed = ttlKeys(tableKeys(await dumpFlows(ovs)));
        const facts = factsOf(ovsC, sbC);
        const errors: string[] = [];
        const full = computeTextFlows(sbC, facts, (m) => errors.push(m));
        assert.deepEqual(errors, [], `${name}: translation errors`);
        const scratch = ttlKeys(tableKeys(full));
        assert.deepEqual(
          installed,
          scratch,
          `${name}: installed (incremental) vs from scratch\n${keyDiff(installed, scratch, ['installed', 'scratch'])}`,
        );
        // The same through the daemon's own recompute.
        const r = await appctl('recompute');
        assert.equal(r.code, 0, r.stderr);
        const recomputed = ttlKeys(tableKeys(await dumpFlows(ovs)));
        assert.deepEqual(
          installed,
          recomputed,
          `${name}: before vs after recompute\n${keyDiff(installed, recomputed, ['incremental', 'recompute'])}`,
        );
        // An incremental computer kept here across the steps.
        // (It yields the flow model; both sides compare in the model's printing.)
        const incr = tableKeys(observer.compute(sbC, facts).map(textFlowOf));
        const { translated, reused } = observer.cache.stats;
        const fromScratch = tableKeys(full.map((f) => textFlowOf(flowOfText(f))));
        assert.deepEqual(
          incr,
          fromScratch,
          `${name}: FlowComputer vs computeTextFlows\n${keyDiff(incr, fromScratch, ['incremental', 'scratch'])}`,
        );
        t.diagnostic(
          `${name}: ${installed.length} flows equal; here ${translated} logical flows translated, ${reused} reused; ports built ${observer.portCache.stats.built}, reused ${observer.portCache.stats.reused}`,
        );
        if (stepNo > 1) assert.ok(reused > translated, `${name}: most translations reused (${translated} translated, ${reused} reused)`);
      };

      // 0. A switch with two ports and DHCP (options whose encoding and order matter), behind a router.
      await nb(...nbctlChain(...switchBehindRouter('10.1.0.1/24')));
      const dhcp =
        (await nb('dhcp-options-create', '10.1.0.0/24')).trim() ||
        (await nb('--bare', '--columns=_uuid', 'find', 'DHCP_Options', 'cidr="10.1.0.0/24"')).trim();
      await nb(
        'dhcp-options-set-options',
        dhcp,
        'lease_time=3600',
        'router=10.1.0.1',
        'server_id=10.1.0.1',
        'server_mac=02:00:00:00:00:01',
        'domain_search_list="a.example.org,b.example.org"',
        'tftp_server="192.0.2.10"',
        'bootfile_name="pxelinux.0"',
        'dns_server={192.0.2.53}',
      );
      for (const [p, mac, ip] of [
        ['p1', '02:00:00:00:01:01', '10.1.0.11'],
        ['p2', '02:00:00:00:01:02', '10.1.0.12'],
      ] as const) {
        await nb(
          'lsp-add',
          'sw',
          p,
          '--',
          'lsp-set-addresses',
          p,
          `${mac} ${ip}`,
          '--',
          'lsp-set-port-security',
          p,
          `${mac} ${ip}`,
          '--',
          'lsp-set-dhcpv4-options',
          p,
          dhcp,
        );
      }
      await waitFor(async () => (await ovs.vsctl('list-br')).split('\n').includes('br-int'), { what: 'br-int' });
      await addInternalVif(ovs, 'p1');
      await addInternalVif(ovs, 'p2');
      await up('p1');
      await up('p2');
      await check('two ports with DHCP');

      // 1. One more port bound.
      await nb('lsp-add', 'sw', 'p3', '--', 'lsp-set-addresses', 'p3', '02:00:00:00:01:03 10.1.0.13');
      await addInternalVif(ovs, 'p3');
      await up('p3');
      await check('a port bound');

      // 2. ACLs on a port group and an address set (conjunctive matches).
      await nb('create', 'Address_Set', 'name=as1', 'addresses="10.1.0.12"');
      await nb('pg-add', 'pg1', 'p1', 'p3');
      await nb('acl-add', 'pg1', 'from-lport', '1001', 'inport == @pg1 && ip4.src == $as1 && tcp.dst == {80, 443}', 'allow-related');
      await nb('acl-add', 'sw', 'to-lport', '1002', 'ip4.src == {10.1.0.12, 10.1.0.13} && udp.dst == {53, 5353}', 'drop');
      await check('ACLs');

      // 3. The address set changes.
      await nb('add', 'Address_Set', 'as1', 'addresses', '"10.1.0.13"');
      await check('address set changed');

      // 4. A MAC_Binding learnt on the router.
      const lrDp = (await sbctl('--bare', '--columns=_uuid', 'find', 'Datapath_Binding', 'external_ids:name=lr')).trim();
      await sbctl('create', 'MAC_Binding', 'logical_port=lr-sw', 'ip=10.1.0.50', 'mac="02:00:00:00:00:50"', `datapath=${lrDp}`);
      await check('MAC_Binding');

      // 5. A remote chassis with a port of sw bound to it (tunnel port, remote output).
      await sbctl('chassis-add', 'incr-remote', 'geneve', '192.0.2.2');
      await nb('lsp-add', 'sw', 'r1', '--', 'lsp-set-addresses', 'r1', '02:00:00:00:01:20 10.1.0.20');
      await waitFor(async () => (await sbctl('--bare', '--columns=_uuid', 'find', 'Port_Binding', 'logical_port=r1')).trim() !== '', {
        what: 'r1 binding',
      });
      await sbctl('lsp-bind', 'r1', 'incr-remote');
      await waitFor(() => [...tunnelPorts(ovsC, 'br-int').values()].some((p) => p.ofport !== undefined), { what: 'tunnel port' });
      await check('remote chassis');

      // 6. A switch that is not local here yet, then becomes local by a bound port.
      await nb('ls-add', 'sw3', '--', 'lsp-add', 'sw3', 'z1', '--', 'lsp-set-addresses', 'z1', '02:00:00:00:03:01 10.3.0.11');
      await check('a switch elsewhere');
      await addInternalVif(ovs, 'z1');
      await up('z1');
      await check('the switch becomes local');

      // 7. A port and an ACL removed.
      await ovs.vsctl('del-port', 'br-int', 'p2');
      await nb('lsp-del', 'p2');
      await nb('acl-del', 'sw', 'to-lport', '1002', 'ip4.src == {10.1.0.12, 10.1.0.13} && udp.dst == {53, 5353}');
      await check('a port and an ACL removed');

      // 8. The switch's only local port goes: it is no longer local.
      await ovs.vsctl('del-port', 'br-int', 'z1');
      await waitFor(async () => (await sbctl('--bare', '--columns=chassis', 'find', 'Port_Binding', 'logical_port=z1')).trim() === '', {
        what: 'z1 released',
      });
      await check('the switch is no longer local');

      // 9. The real ovn-controller takes over the chassis: the same table.
      const ourTable = tableKeys(await dumpFlows(ovs));
      const ourDhcp = ourTable.filter(isPutDhcpOpts);
      assert.ok(ourDhcp.length > 0, 'put_dhcp_opts flows');
      await ours.stop();
      const realDir = join(dir, 'real');
      mkdirSync(realDir);
      real = await startRealController(ovs, realDir, log);
      // The real controller clears the table and installs its own, logical flows with cookies
      // from their UUIDs (ours are 0): two equal dumps in a row with those cookies mean it is done.
      let prev = '';
      let realFlows: TextFlow[] = [];
      await waitFor(
        async () => {
          realFlows = await dumpFlows(ovs);
          const now = realFlows
            .map((f) => `${String(f.cookie)} ${flowKey(f)}`)
            .sort()
            .join('\n');
          const settled = now === prev && realFlows.some((f) => (f.cookie ?? 0n) !== 0n);
          prev = now;
          return settled;
        },
        { what: 'the real ovn-controller settled', timeoutMs: 90_000, intervalMs: 1000 },
      );
      // The real controller numbers conntrack zones its own way: ours computed with the zones it stored.
      const realTable = ttlKeys(tableKeys(realFlows));
      await replicasCaughtUp();
      const withRealZones = ttlKeys(tableKeys(computeTextFlows(sbC, factsOf(ovsC, sbC))));
      assert.deepEqual(
        withRealZones,
        realTable,
        `ours vs the real ovn-controller\n${keyDiff(withRealZones, realTable, ['ovnts', 'real'])}`,
      );
      const realDhcp = realTable.filter(isPutDhcpOpts);
      assert.ok(
        realDhcp.some((k) => k.includes(PXELINUX)),
        'the real put_dhcp_opts flows carry bootfile_name',
      );
      assert.deepEqual(ttlKeys(ourDhcp), realDhcp, 'the put_dhcp_opts flows our daemon installed are the real ones');
      t.diagnostic(
        `the real ovn-controller installs the same ${realTable.length} flows, ${realDhcp.length} with put_dhcp_opts, e.g. ${realDhcp[0]}`,
      );
    } catch (e) {
      t.diagnostic(lines.slice(-40).join('\n'));
      throw e;
    } finally {
      await sbC.stop();
      await ovsC.stop();
      await real?.stop();
      await ours.stop();
      await ovs.stop();
      await central.stop();
      tmp.cleanup();
    }
  },
);
