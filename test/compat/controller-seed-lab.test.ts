/**
 * The seed lab with the real ovn-northd and `ovnts controller` as the chassis'
 * controller (its flows from the lflow translation, installed by ofctrl):
 * every port comes up and `ovn-nbctl --wait=hv` returns (inside runSeedLab);
 * with the NB addresses configured statically in vm5, c51 and c52 (DHCP needs
 * the packet-in path, which this test does not cover), each pings the router
 * and the others — the container ports through their VLAN tags on vm5's
 * port; c51 cannot send with c52's address, and a VLAN no container port has
 * goes nowhere. Then `kill -9` of the controller while c51 pings the router: the
 * pings go on (the flows stay in OVS), a new controller reconciles without
 * flushing, and the installed flow table converges to the same set as before.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, run, runOk, tmpDir, waitFor } from '../helpers/proc.js';
import { createNetns, deleteNetns } from '../helpers/netns.js';
import { LAB_HOSTS, ROUTER_IP, runSeedLab, startOvnDatabases, type ComponentContext, type LabResult } from '../helpers/ovn-lab.js';
import { startOvntsController, type OvntsControllerHandle } from '../helpers/ovnts-controller.js';

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

test('seed lab with ovnts controller: ports up, pings (static addresses), kill -9 during a ping', { timeout: 300_000 }, async (t) => {
  const dbDir = tmpDir('ovnts-ctl-lab-dbs');
  const dbs = await startOvnDatabases(dbDir.path, 'real');
  const lines: string[] = [];
  let lab: LabResult | undefined;
  let ctx: ComponentContext | undefined;
  let ctl: OvntsControllerHandle | undefined;
  try {
    const result = await runSeedLab({
      dbs,
      northd: 'real',
      controller: async (c) => {
        ctx = c;
        ctl = await startOvntsController(c);
        return { stop: () => ctl!.stop() };
      },
      log: (l) => lines.push(l),
      dhcpTimeoutS: 3,
    });
    lab = result;
    t.diagnostic(`timings: ${JSON.stringify(result.timings)}`);
    const dhcp = result.hosts.map((h) => `${h.name}: ${h.address ?? `no lease (${(h.dhcpError ?? '').split('\n')[0]})`}`);
    t.diagnostic(`DHCP (not asserted here): ${dhcp.join('; ')}`);
    // The NB addresses, set by hand where DHCP gave none.
    for (const h of result.hosts) {
      if (h.address === undefined) await runOk('ip', ['-n', h.netns, 'addr', 'add', `${h.expectedAddress}/26`, 'dev', h.name]);
    }
    const failures: string[] = [];
    for (const h of result.hosts) {
      const targets = [ROUTER_IP, ...result.hosts.filter((o) => o !== h).map((o) => o.expectedAddress)];
      for (const dest of targets) {
        const r = await run('ip', ['netns', 'exec', h.netns, 'ping', '-c', '3', '-i', '0.2', '-W', '2', dest]);
        if (r.code !== 0) failures.push(`${h.name} -> ${dest}: ${/\d+ received/.exec(r.stdout)?.[0] ?? r.stdout}`);
      }
    }
    assert.equal(LAB_HOSTS.length, 3);
    assert.deepEqual(failures, [], `lab log:\n${lines.slice(-40).join('\n')}\n${result.logs(30)}`);

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
});
