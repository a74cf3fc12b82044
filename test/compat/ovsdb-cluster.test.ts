/**
 * ovnts clients on a real 3-member clustered (Raft) NB and SB of the real
 * ovsdb-server, given as a comma-separated remote list, as OVN deploys them:
 * `ovnts nbctl` reads and writes through the leader and fails like ovn-nbctl on
 * a follower-only list; the client follows a leader change and resumes its
 * monitor with `monitor_cond_since` (the server finds the last txn id); and
 * `ovnts northd` goes on while the NB and SB leaders are killed under a loop of
 * `ovnts nbctl lsp-add`: every acknowledged add is there afterwards and gets its
 * Port_Binding; and the seed lab runs with ovnts northd and ovnts controller on
 * the clusters, and still pings after both leaders were killed.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, run, runOk, tmpDir, waitFor } from '../helpers/proc.js';
import { NB_SCHEMA, SB_SCHEMA, OVNTS } from '../helpers/ovsdb-servers.js';
import { startRaftCluster, type RaftCluster } from '../helpers/raft-cluster.js';
import { startOvntsNorthd, northdStatus } from '../helpers/ovnts-northd.js';
import { OvsdbClient } from '../../src/ovsdb/client.js';
import { LAB_HOSTS, ROUTER_IP, runSeedLab, type LabResult } from '../helpers/ovn-lab.js';
import { startOvntsController } from '../helpers/ovnts-controller.js';

after(cleanupAll);

const nbctl = (db: string, ...args: string[]): ReturnType<typeof run> =>
  run(OVNTS, ['nbctl', `--db=${db}`, '--timeout=30', ...args], { timeoutMs: 40000 });

/** The remotes with the leader's last, so that a client must skip the followers first. */
async function leaderLast(c: RaftCluster): Promise<{ remotes: string; followers: string }> {
  const l = await c.leader();
  const followers = c.members.filter((m) => m !== l).map((m) => m.remote);
  return { remotes: [...followers, l.remote].join(','), followers: followers.join(',') };
}

test(
  'ovnts nbctl on a 3-member NB cluster: writes through the leader, follower-only fails as ovn-nbctl does',
  { timeout: 120_000 },
  async () => {
    const nb = await startRaftCluster(NB_SCHEMA, 'OVN_Northbound');
    try {
      const { remotes, followers } = await leaderLast(nb);
      const add = await nbctl(remotes, 'ls-add', 'sw0', '--', 'lsp-add', 'sw0', 'p0');
      assert.equal(add.code, 0, add.stderr);
      // Every member has the write (it went through Raft), as the real tool reads it.
      for (const m of nb.members)
        assert.match(await runOk('ovn-nbctl', ['--no-leader-only', `--db=${m.remote}`, 'lsp-list', 'sw0']), /\(p0\)/);
      const list = await nbctl(remotes, 'ls-list');
      assert.match(list.stdout, /\(sw0\)/);

      // Leader-only (the default) with only followers: both tools refuse with the same line.
      const real = await run('ovn-nbctl', [`--db=${followers}`, 'ls-add', 'x']);
      const ours = await nbctl(followers, 'ls-add', 'x');
      assert.equal(real.code, 1);
      assert.equal(ours.code, real.code, ours.stderr);
      assert.equal(ours.stderr, real.stderr);
      // --no-leader-only: a follower takes the write and forwards it to the leader.
      const fwd = await nbctl(followers, '--no-leader-only', 'ls-add', 'sw1');
      assert.equal(fwd.code, 0, fwd.stderr);
      assert.match(await runOk('ovn-nbctl', [`--db=${nb.remotes}`, 'ls-list']), /\(sw1\)/);
    } finally {
      await nb.stop();
    }
  },
);

test('client follows a leader change and resumes its monitor with monitor_cond_since (found=true)', { timeout: 120_000 }, async () => {
  const nb = await startRaftCluster(NB_SCHEMA, 'OVN_Northbound');
  const client = new OvsdbClient({
    remotes: nb.remotes,
    database: 'OVN_Northbound',
    leaderOnly: true,
    tables: { Logical_Switch: ['name'] },
  });
  try {
    await client.start();
    const first = await nb.leader();
    assert.equal(client.currentRemote, first.remote, 'leader-only client is on the leader');
    assert.equal(client.monitorKind, 'monitor_cond_since');
    await client
      .txn()
      .op({ op: 'insert', table: 'Logical_Switch', row: { name: 'before' } })
      .commit();
    await client.waitUntil(() => [...client.table('Logical_Switch').values()].some((r) => r.scalar('name') === 'before'));
    const indexBefore = client.clusterIndex;
    assert.ok(indexBefore > 0n, 'the cluster index is tracked');

    await nb.kill(first);
    const second = await nb.leader(30000);
    await waitFor(() => client.isConnected && client.currentRemote === second.remote, {
      timeoutMs: 30000,
      what: 'client on the new leader',
    });
    assert.equal(client.resumedMonitor, true, 'the new leader found the last txn id: no full re-read');
    // Writes go on through the new leader and come back through the resumed monitor.
    await client
      .txn()
      .op({ op: 'insert', table: 'Logical_Switch', row: { name: 'after' } })
      .commit();
    await client.waitUntil(() => [...client.table('Logical_Switch').values()].some((r) => r.scalar('name') === 'after'));
    assert.equal(client.table('Logical_Switch').size, 2);
    assert.ok(client.clusterIndex > indexBefore);

    // The old leader comes back as a follower: the client stays where it is.
    await nb.restart(first);
    await waitFor(async () => /^Role: follower$/m.test(await nb.status(first)), { timeoutMs: 30000, what: 'old leader back as follower' });
    assert.equal(client.currentRemote, second.remote);
  } finally {
    await client.stop();
    await nb.stop();
  }
});

test(
  'ovnts northd on clustered NB and SB: leaders killed while ovnts nbctl adds ports; every acknowledged add gets its Port_Binding',
  { timeout: 300_000 },
  async (t) => {
    const dir = tmpDir('ovnts-cluster-northd');
    const nb = await startRaftCluster(NB_SCHEMA, 'OVN_Northbound');
    const sb = await startRaftCluster(SB_SCHEMA, 'OVN_Southbound');
    const lines: string[] = [];
    try {
      const northd = await startOvntsNorthd({
        dbs: { nbRemote: nb.remotes, sbRemote: sb.remotes, stop: async () => {} },
        dir: dir.path,
        log: (l) => lines.push(l),
      });
      assert.equal((await nbctl(nb.remotes, 'ls-add', 'sw0')).code, 0);
      const acked: string[] = [];
      const retried: string[] = [];
      const N = 24;
      for (let i = 0; i < N; i++) {
        // The kills race with the next nbctl: it may lose its member mid-transaction.
        if (i === 8) void nb.leader().then((m) => nb.kill(m));
        if (i === 16) void sb.leader().then((m) => sb.kill(m));
        const name = `lp${i}`;
        // While the cluster elects a new leader no member is usable, and nbctl fails
        // as ovn-nbctl does ("database connection failed"); a script tries again.
        for (let attempt = 0; ; attempt++) {
          const r = await nbctl(nb.remotes, 'lsp-add', 'sw0', name);
          if (r.code === 0) {
            acked.push(name);
            break;
          }
          // An attempt whose acknowledgement was lost may have committed.
          if (attempt > 0 && r.stderr.includes(`${name}: a port with this name already exists`)) break;
          assert.match(r.stderr, /database connection failed/, `${name}: ${r.stderr}`);
          assert.ok(attempt < 100, `${name}: no leader for too long`);
          retried.push(name);
          await new Promise((res) => setTimeout(res, 100));
        }
      }
      t.diagnostic(`acknowledged ${acked.length}/${N}; attempts refused while no leader: ${retried.length}`);
      // Every acknowledged add is in the NB (read from the new leader by the real tool).
      const ports = await runOk('ovn-nbctl', [`--db=${nb.remotes}`, 'lsp-list', 'sw0']);
      for (const p of acked) assert.match(ports, new RegExp(`\\(${p}\\)`), `${p} acknowledged but missing`);
      // northd carries on: the SB converges to a Port_Binding for every port.
      await waitFor(
        async () => {
          const pbs = (
            await run('ovn-sbctl', [`--db=${sb.remotes}`, '--bare', '--columns=logical_port', 'list', 'Port_Binding'])
          ).stdout.split('\n');
          return acked.every((p) => pbs.includes(p));
        },
        { timeoutMs: 60000, intervalMs: 250, what: `Port_Bindings for ${acked.length} ports; northd log:\n${lines.slice(-40).join('\n')}` },
      );
      assert.equal(await northdStatus(northd.ctl), 'Status: active');
      await northd.stop();
    } finally {
      await nb.stop();
      await sb.stop();
      dir.cleanup();
    }
  },
);

test(
  'seed lab on clustered NB and SB with ovnts northd and ovnts controller; pings after both leaders are killed',
  { timeout: 300_000 },
  async (t) => {
    const nb = await startRaftCluster(NB_SCHEMA, 'OVN_Northbound');
    const sb = await startRaftCluster(SB_SCHEMA, 'OVN_Southbound');
    const lines: string[] = [];
    let lab: LabResult | undefined;
    try {
      lab = await runSeedLab({
        dbs: { nbRemote: nb.remotes, sbRemote: sb.remotes, stop: async () => {} },
        northd: (c) => startOvntsNorthd(c),
        controller: (c) => startOvntsController(c),
        log: (l) => lines.push(l),
        dhcpTimeoutS: 20,
      });
      t.diagnostic(`timings: ${JSON.stringify(lab.timings)}`);
      const failures: string[] = [];
      for (const spec of LAB_HOSTS) {
        const h = lab.hosts.find((x) => x.name === spec.name);
        assert.ok(h, spec.name);
        if (h.address !== `${spec.ip}/26`) failures.push(`${h.name}: address ${h.address ?? 'none'} ${h.dhcpError ?? ''}`);
        for (const p of h.pings) if (!p.ok) failures.push(`${h.name} -> ${p.target}: ${p.received}/${p.transmitted}`);
      }
      assert.deepEqual(failures, [], `lab log:\n${lines.slice(-60).join('\n')}\n${lab.logs(30)}`);

      // Both leaders die. A port added through the new NB leader and plugged into OVS
      // is bound by the controller (it writes Port_Binding.chassis through its moved
      // SB connection) and reported up by northd; the lab still pings.
      await nb.kill(await nb.leader());
      await sb.kill(await sb.leader());
      await nb.leader(30000);
      await sb.leader(30000);
      const add = await nbctl(nb.remotes, 'lsp-add', 'dmz', 'late0');
      assert.equal(add.code, 0, add.stderr);
      await lab.ovs.vsctl('add-port', 'br-int', 'late0', '--', 'set', 'interface', 'late0', 'type=internal', 'external_ids:iface-id=late0');
      await waitFor(async () => (await nbctl(nb.remotes, 'lsp-get-up', 'late0')).stdout.trim() === 'up', {
        timeoutMs: 60000,
        intervalMs: 500,
        what: `late0 up; log:\n${lines.slice(-40).join('\n')}`,
      });
      const chassis = await runOk('ovn-sbctl', [
        `--db=${sb.remotes}`,
        '--bare',
        '--columns=chassis',
        'find',
        'Port_Binding',
        'logical_port=late0',
      ]);
      assert.notEqual(chassis.trim(), '', 'late0 bound to the chassis');
      for (const h of lab.hosts) {
        const ping = await run('ip', ['netns', 'exec', h.netns, 'ping', '-c', '2', '-W', '2', ROUTER_IP]);
        assert.equal(ping.code, 0, `${h.name} -> router after the leader changes: ${ping.stdout}\n${lab.logs(30)}`);
      }
    } finally {
      await lab?.stop();
      await nb.stop();
      await sb.stop();
    }
  },
);
