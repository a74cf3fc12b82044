/**
 * `ovnts up`: one process serves the NB and SB databases on ovn-ctl's sockets,
 * runs northd and the controller of this host. The real ovn-nbctl/ovn-sbctl talk
 * to it; a VIF plugged into br-int (which the controller creates) is bound and
 * reported up through `--wait=hv`; the databases survive a restart of the process.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNetns, deleteNetns, nsPrefix, runId } from '../helpers/netns.js';
import { startOvs } from '../helpers/ovs.js';
import { cleanupAll, runOk, spawnDaemon, tmpDir, waitFor, type Daemon } from '../helpers/proc.js';
import { OVNTS } from '../helpers/ovsdb-servers.js';

after(cleanupAll);

test('ovnts up: databases, northd and controller in one process', { timeout: 120_000 }, async () => {
  const id = runId();
  const tmp = tmpDir('ovnts-up');
  const ns = `${id}-up`;
  const run = join(tmp.path, 'run');
  const db = join(tmp.path, 'db');
  const ovsDir = join(tmp.path, 'ovs');
  mkdirSync(ovsDir);
  await createNetns(ns);
  const ovs = await startOvs({ netns: ns, dir: ovsDir });
  const pidfile = join(tmp.path, 'up.pid');
  const ctl = join(tmp.path, 'up.ctl');
  const logFile = join(tmp.path, 'up.log');
  const start = (): Promise<Daemon> => {
    const pre = nsPrefix(ns);
    const args = [
      'up',
      `--rundir=${run}`,
      `--dbdir=${db}`,
      `--ovs-db=${ovs.dbRemote}`,
      `--pidfile=${pidfile}`,
      `--unixctl=${ctl}`,
      `--log-file=${logFile}`,
    ];
    return spawnDaemon(pre[0] as string, [...pre.slice(1), OVNTS, ...args], {
      name: 'ovnts up',
      env: { ...ovs.env },
      readyWhen: async () => existsSync(pidfile) && readFileSync(pidfile, 'utf8').trim() !== '',
    });
  };
  const nbctl = (...a: string[]): Promise<string> => runOk('ovn-nbctl', [`--db=unix:${run}/ovnnb_db.sock`, '--timeout=30', ...a]);
  let up: Daemon | undefined;
  try {
    await ovs.vsctl(
      'set',
      'Open_vSwitch',
      '.',
      `external_ids:system-id=${id}-chassis`,
      `external_ids:ovn-remote=unix:${run}/ovnsb_db.sock`,
      'external_ids:ovn-encap-type=geneve',
      'external_ids:ovn-encap-ip=127.0.0.1',
      'external_ids:ovn-bridge-datapath-type=netdev',
    );
    up = await start();
    await nbctl('ls-add', 'sw', '--', 'lsp-add', 'sw', 'p1', '--', 'lsp-set-addresses', 'p1', '02:00:00:00:00:01 192.0.2.10');
    await waitFor(async () => (await ovs.vsctl('--if-exists', 'get', 'Bridge', 'br-int', 'name')).trim() === 'br-int', { what: 'br-int' });
    await ovs.vsctl('add-port', 'br-int', 'p1', '--', 'set', 'Interface', 'p1', 'type=internal', 'external_ids:iface-id=p1');
    await waitFor(async () => (await nbctl('lsp-get-up', 'p1')).trim() === 'up', { what: 'p1 up', timeoutMs: 30_000 });
    await nbctl('--wait=hv', 'sync');
    const chassis = await runOk('ovn-sbctl', [`--db=unix:${run}/ovnsb_db.sock`, '--bare', '--columns=name', 'list', 'Chassis']);
    assert.equal(chassis.trim(), `${id}-chassis`);
    // One control socket serves what ovn-appctl asks of ovn-northd and ovn-controller.
    const appctl = (...a: string[]): Promise<string> => runOk('ovn-appctl', ['-t', ctl, ...a]);
    assert.equal(await appctl('status'), 'Status: active\n');
    assert.equal(await appctl('connection-status'), 'connected\n');
    assert.match(await appctl('ct-zone-list'), /^p1 \d+$/m);
    await appctl('recompute');
    assert.match(await appctl('debug/recompute-check'), /incremental flows equal a full recompute/);
    await appctl('vlog/set', 'northd:file:dbg');
    assert.match(await appctl('vlog/list'), /^northd +OFF +INFO +DBG$/m);
    // The databases are files: a restarted process has the same NB.
    await up.stop();
    assert.equal(existsSync(pidfile), false, 'the pid file goes with the process');
    up = await start();
    assert.match(await nbctl('ls-list'), /\(sw\)/);
    await nbctl('--wait=sb', 'lsp-add', 'sw', 'p2');
  } finally {
    await up?.stop();
    await ovs.stop();
    await deleteNetns(ns);
    tmp.cleanup();
  }
});
