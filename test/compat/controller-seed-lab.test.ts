/**
 * The seed lab with the real ovn-northd and `ovnts controller` as the chassis'
 * controller (its flows from the lflow translation, installed by ofctrl):
 * every port comes up and `ovn-nbctl --wait=hv` returns (inside runSeedLab);
 * vm5, c51 and c52 get their NB addresses by DHCP — answered by ovnts pinctrl
 * through packet-in and resume — and each pings the router and the others,
 * the container ports through their VLAN tags on vm5's port; c51 cannot send with c52's IP or MAC, a VLAN no container port has
 * goes nowhere, and a port of another switch is reachable only through the router. Then `kill -9` of the controller while c51 pings the router: the
 * pings go on (the flows stay in OVS), a new controller reconciles without
 * flushing, and the installed flow table converges to the same set as before.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, run, runOk, tmpDir, waitFor } from '../helpers/proc.js';
import { createNetns, deleteNetns } from '../helpers/netns.js';
import { labFailures, ROUTER_IP, runSeedLab, startOvnDatabases, type ComponentContext, type LabResult } from '../helpers/ovn-lab.js';
import { startOvntsController, type OvntsControllerHandle } from '../helpers/ovnts-controller.js';
import { startOvntsNorthd } from '../helpers/ovnts-northd.js';
import { INSIDE_BEHIND_TENANT1, nbctlChain } from '../helpers/nb-topology.js';
import type { ServerKind } from '../helpers/ovsdb-servers.js';

after(cleanupAll);

/** `ovs-ofctl dump-flows` without counters and ages, sorted: the installed flow set. */
async function flowSet(lab: LabResult): Promise<string[]> {
  const out = await lab.ovs.ofctl('-O', 'OpenFlow15', '--no-stats', 'dump-flows', 'br-int');
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('OFPST_FLOW') && !l.startsWith('NXST_FLOW'))
    .sort();
}

const STACKS: ReadonlyArray<{ readonly name: string; readonly dbs: ServerKind; readonly northd: 'real' | 'ovnts' }> = [
  { name: 'real ovsdb-server + real ovn-northd', dbs: 'real', northd: 'real' },
  { name: 'ovnts alone (ovsdb-server, northd, controller)', dbs: 'ovnts', northd: 'ovnts' },
];

for (const stack of STACKS) {
  test(
    `seed lab with ovnts controller, ${stack.name}: ports up, DHCP leases, pings, isolation, kill -9 during a ping`,
    { timeout: 300_000 },
    async (t) => {
      const dbDir = tmpDir('ovnts-ctl-lab-dbs');
      const dbs = await startOvnDatabases(dbDir.path, stack.dbs);
      const lines: string[] = [];
      let lab: LabResult | undefined;
      let ctx: ComponentContext | undefined;
      let ctl: OvntsControllerHandle | undefined;
      try {
        const result = await runSeedLab({
          dbs,
          northd: stack.northd === 'real' ? 'real' : (c) => startOvntsNorthd(c),
          controller: async (c) => {
            ctx = c;
            ctl = await startOvntsController(c);
            return { stop: () => ctl!.stop() };
          },
          log: (l) => lines.push(l),
          dhcpTimeoutS: 20,
        });
        lab = result;
        t.diagnostic(`timings: ${JSON.stringify(result.timings)}`);
        // Every namespace got its NB address by DHCP (answered by ovnts pinctrl) and pinged the router and the others.
        assert.deepEqual(labFailures(result), [], `lab log:\n${lines.slice(-60).join('\n')}\n${result.logs(30)}`);

        // Isolation (issue 5): c51 cannot send as c52, and an unassigned VLAN from vm5 goes nowhere.
        const c51h = result.hosts.find((h) => h.name === 'c51')!;
        const c52h = result.hosts.find((h) => h.name === 'c52')!;
        await runOk('ip', ['-n', c51h.netns, 'addr', 'add', `${c52h.expectedAddress}/32`, 'dev', 'c51']);
        const spoofIp = await run('ip', ['netns', 'exec', c51h.netns, 'ping', '-c', '2', '-W', '1', '-I', c52h.expectedAddress, ROUTER_IP]);
        assert.notEqual(spoofIp.code, 0, `c51 pinging with c52's IP must fail: ${spoofIp.stdout}`);
        await runOk('ip', ['-n', c51h.netns, 'addr', 'del', `${c52h.expectedAddress}/32`, 'dev', 'c51']);
        const ns99 = await createNetns(`${result.id}-c99`);
        await result.ovs.vsctl('add-port', 'br-vm5', 'c99', 'tag=99', '--', 'set', 'interface', 'c99', 'type=internal');
        await waitFor(async () => (await run('ip', ['-n', result.hvNetns, 'link', 'show', 'c99'])).code === 0, { what: 'tap c99' });
        await runOk('ip', ['-n', result.hvNetns, 'link', 'set', 'c99', 'netns', ns99]);
        await runOk('ip', ['-n', ns99, 'addr', 'add', '172.16.255.140/26', 'dev', 'c99']);
        await runOk('ip', ['-n', ns99, 'link', 'set', 'c99', 'up']);
        const vlan99 = await run('ip', ['netns', 'exec', ns99, 'ping', '-c', '2', '-W', '1', ROUTER_IP]);
        assert.notEqual(vlan99.code, 0, `an unassigned VLAN must go nowhere: ${vlan99.stdout}`);
        await result.ovs.vsctl('del-port', 'br-vm5', 'c99');
        await deleteNetns(ns99);
        // c51 with c52's MAC (and its own IP) is dropped too.
        await runOk('ip', ['-n', c51h.netns, 'link', 'set', 'c51', 'address', c52h.mac]);
        const spoofMac = await run('ip', ['netns', 'exec', c51h.netns, 'ping', '-c', '2', '-W', '1', ROUTER_IP]);
        await runOk('ip', ['-n', c51h.netns, 'link', 'set', 'c51', 'address', c51h.mac]);
        assert.notEqual(spoofMac.code, 0, `c51 sending with c52's MAC must fail: ${spoofMac.stdout}`);

        // Another switch is reachable only through the router: `inside` (10.0.0.0/24) is on
        // tenant1 and answers c51 through it; `other` uses dmz's own subnet but is not on
        // the router, so its port is out of reach although it is on the same chassis.
        await result.nbctl(...nbctlChain(...INSIDE_BEHIND_TENANT1));
        await result.nbctl('lsp-add', 'inside', 'in1', '--', 'lsp-set-addresses', 'in1', '02:00:00:00:02:10 10.0.0.10');
        await result.nbctl(
          'ls-add',
          'other',
          '--',
          'lsp-add',
          'other',
          'o1',
          '--',
          'lsp-set-addresses',
          'o1',
          '02:00:00:00:0f:01 172.16.255.150',
        );
        const extraNs: string[] = [];
        for (const [port, mac, cidr, gw] of [
          ['in1', '02:00:00:00:02:10', '10.0.0.10/24', '10.0.0.1'],
          ['o1', '02:00:00:00:0f:01', '172.16.255.150/26', undefined],
        ] as const) {
          const ns = await createNetns(`${result.id}-${port}`);
          extraNs.push(ns);
          await result.ovs.vsctl(
            'add-port',
            'br-int',
            port,
            '--',
            'set',
            'Interface',
            port,
            'type=internal',
            `external_ids:iface-id=${port}`,
          );
          await waitFor(async () => (await run('ip', ['-n', result.hvNetns, 'link', 'show', port])).code === 0, { what: `tap ${port}` });
          await runOk('ip', ['-n', result.hvNetns, 'link', 'set', port, 'address', mac]);
          await runOk('ip', ['-n', result.hvNetns, 'link', 'set', port, 'netns', ns]);
          await runOk('ip', ['-n', ns, 'addr', 'add', cidr, 'dev', port]);
          await runOk('ip', ['-n', ns, 'link', 'set', port, 'up']);
          if (gw !== undefined) await runOk('ip', ['-n', ns, 'route', 'add', 'default', 'via', gw]);
          await waitFor(async () => (await result.nbctl('get', 'Logical_Switch_Port', port, 'up')).trim() === 'true', {
            what: `${port} up`,
            timeoutMs: 60_000,
          });
        }
        await result.nbctl('--wait=hv', 'sync');
        await runOk('ip', ['-n', c51h.netns, 'route', 'replace', 'default', 'via', ROUTER_IP]);
        const routed = await run('ip', ['netns', 'exec', c51h.netns, 'ping', '-c', '3', '-i', '0.2', '-W', '2', '10.0.0.10']);
        assert.equal(routed.code, 0, `c51 reaches a port of another switch through the router: ${routed.stdout}`);
        const direct = await run('ip', ['netns', 'exec', c51h.netns, 'ping', '-c', '2', '-W', '1', '172.16.255.150']);
        assert.notEqual(direct.code, 0, `c51 must not reach a port of a switch the router does not join: ${direct.stdout}`);
        await result.nbctl('--wait=hv', 'ls-del', 'other', '--', 'ls-del', 'inside', '--', 'lrp-del', 'tenant1-inside');
        for (const port of ['in1', 'o1']) await result.ovs.vsctl('del-port', 'br-int', port);
        for (const ns of extraNs) await deleteNetns(ns);
        await result.nbctl('--wait=hv', 'sync');

        // kill -9 during a ping.
        const before = await flowSet(result);
        t.diagnostic(`installed flows: ${before.length}`);
        const c51 = result.hosts.find((h) => h.name === 'c51')!;
        const ping = run('ip', ['netns', 'exec', c51.netns, 'ping', '-c', '40', '-i', '0.1', '-W', '1', ROUTER_IP], { timeoutMs: 60000 });
        await ctl!.kill();
        ctl = await startOvntsController(ctx!);
        const r = await ping;
        const received = Number(/(\d+) received/.exec(r.stdout)?.[1] ?? '0');
        t.diagnostic(`ping across the restart: ${received}/40`);
        assert.ok(received > 0, `pings across the restart: ${r.stdout}`);
        // The restarted controller has caught up once --wait=hv returns; the flow set is the same.
        await result.nbctl('--wait=hv', 'sync');
        await waitFor(async () => JSON.stringify(await flowSet(result)) === JSON.stringify(before), {
          what: 'installed flows converge to the set before the restart',
          timeoutMs: 30000,
        }).catch(async (e: unknown) => {
          const now = await flowSet(result);
          const gone = before.filter((f) => !now.includes(f));
          const extra = now.filter((f) => !before.includes(f));
          throw new Error(`${(e as Error).message}\nmissing: ${gone.slice(0, 20).join('\n')}\nextra: ${extra.slice(0, 20).join('\n')}`);
        });
        // And the ping after the restart works from every host.
        const after = await run('ip', ['netns', 'exec', c51.netns, 'ping', '-c', '3', '-W', '2', ROUTER_IP]);
        assert.equal(after.code, 0, after.stdout);
      } finally {
        await lab?.stop();
        await dbs.stop();
        dbDir.cleanup();
      }
    },
  );
}
