/**
 * `ovnts controller` across database outages: the SB ovsdb-server killed and
 * restarted on the same file (the controller reconnects and keeps serving),
 * then on a fresh, empty file (it registers the chassis again and reclaims its
 * port), and the local Open vSwitch ovsdb-server killed and restarted (it
 * reconnects and binds a port added afterwards). An interface OVS cannot open
 * (ofport -1) is never claimed.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createNetns, nsPrefix, runId } from '../helpers/netns.js';
import { socketAccepts, startOvs } from '../helpers/ovs.js';
import { startOvntsController } from '../helpers/ovnts-controller.js';
import { SB_SCHEMA } from '../helpers/ovsdb-servers.js';
import { cleanupAll, runOk, spawnDaemon, tmpDir, waitFor, type Daemon } from '../helpers/proc.js';

after(cleanupAll);

test('ovnts controller reconnects after SB and OVS database restarts and re-registers on an empty SB', { timeout: 180_000 }, async () => {
  const tmp = tmpDir('ovnts-ctl-reconnect');
  const dir = tmp.path;
  const lines: string[] = [];
  const log = (l: string): void => void lines.push(l);
  const sbFile = join(dir, 'sb.db');
  const sbSock = join(dir, 'sb.sock');
  const sbRemote = `unix:${sbSock}`;
  const startSb = async (fresh: boolean): Promise<Daemon> => {
    if (fresh) {
      rmSync(sbFile, { force: true });
      await runOk('ovsdb-tool', ['create', sbFile, SB_SCHEMA]);
    }
    return spawnDaemon(
      'ovsdb-server',
      [sbFile, `--remote=punix:${sbSock}`, `--unixctl=${join(dir, 'sb.ctl')}`, '--no-chdir', '-vconsole:err'],
      {
        name: 'ovsdb-server(sb)',
        onLine: log,
        readyWhen: () => socketAccepts(sbSock),
      },
    );
  };
  let sbd = await startSb(true);
  const sb = (...a: string[]): Promise<string> => runOk('ovn-sbctl', [`--db=${sbRemote}`, '--timeout=20', ...a]);
  const id = runId();
  const ns = await createNetns(`${id}-hv`);
  const ovs = await startOvs({ netns: ns, log });
  const systemId = `${id}-chassis`;
  await ovs.vsctl(
    'set',
    'Open_vSwitch',
    '.',
    `external_ids:system-id=${systemId}`,
    `external_ids:ovn-remote=${sbRemote}`,
    'external_ids:ovn-encap-type=geneve',
    'external_ids:ovn-encap-ip=192.0.2.1',
    'external_ids:ovn-bridge-datapath-type=netdev',
  );
  const ctlDir = join(dir, 'ctl');
  mkdirSync(ctlDir);
  const ctl = await startOvntsController({ dbs: { nbRemote: '', sbRemote, stop: async () => undefined }, dir: ctlDir, log, ovs, systemId });
  const why = (): string => lines.slice(-40).join('\n');
  const chassisUuid = async (): Promise<string> => (await sb('--bare', '--columns=_uuid', 'find', 'Chassis', `name=${systemId}`)).trim();
  const owner = async (lp: string): Promise<string> =>
    (await sb('--bare', '--columns=chassis', 'find', 'Port_Binding', `logical_port=${lp}`)).trim();
  // Without northd, the test writes the bindings northd would (ovn-sbctl can create rows).
  const addBinding = async (lp: string, key: number): Promise<void> => {
    let dp = (await sb('--bare', '--columns=_uuid', 'list', 'Datapath_Binding')).trim();
    if (dp === '') dp = (await sb('create', 'Datapath_Binding', 'tunnel_key=1', 'external_ids:name=sw')).trim();
    await sb('create', 'Port_Binding', `logical_port=${lp}`, `datapath=${dp}`, `tunnel_key=${key}`);
  };
  try {
    await waitFor(async () => (await chassisUuid()) !== '', { what: 'chassis registered' });
    await addBinding('p1', 1);
    await ovs.vsctl('add-port', 'br-int', 'p1', '--', 'set', 'Interface', 'p1', 'type=internal', 'external_ids:iface-id=p1');
    const first = await chassisUuid();
    await waitFor(async () => (await owner('p1')) === first, { what: `p1 claimed (${why()})` });

    // An interface OVS cannot open: ofport -1, never claimed.
    await addBinding('ghost', 2);
    await ovs.vsctl('add-port', 'br-int', 'ghost0', '--', 'set', 'Interface', 'ghost0', 'type=system', 'external_ids:iface-id=ghost');
    await waitFor(async () => (await ovs.vsctl('get', 'Interface', 'ghost0', 'ofport')).trim() === '-1', { what: 'ghost0 ofport -1' });

    // SB killed and restarted on the same file: same chassis, the controller serves on.
    sbd.process.kill('SIGKILL');
    await sbd.exited;
    await sbd.stop();
    sbd = await startSb(false);
    await addBinding('p2', 3);
    await ovs.vsctl('add-port', 'br-int', 'p2', '--', 'set', 'Interface', 'p2', 'type=internal', 'external_ids:iface-id=p2');
    await waitFor(async () => (await owner('p2')) === first, { what: `p2 claimed after the SB restart (${why()})`, timeoutMs: 30000 });
    assert.equal(await chassisUuid(), first);

    // SB restarted empty: the chassis registers again and reclaims p1 once its binding is back.
    await sbd.stop();
    sbd = await startSb(true);
    await waitFor(async () => (await chassisUuid()) !== '', { what: `chassis registered on the fresh SB (${why()})`, timeoutMs: 30000 });
    await addBinding('p1', 1);
    const second = await chassisUuid();
    await waitFor(async () => (await owner('p1')) === second, { what: `p1 reclaimed on the fresh SB (${why()})` });
    assert.equal((await sb('--bare', '--columns=name', 'list', 'Chassis_Private')).trim(), systemId);

    // ovn-remote pointed at another SB: the chassis registers there.
    const sb2File = join(dir, 'sb2.db');
    const sb2Sock = join(dir, 'sb2.sock');
    await runOk('ovsdb-tool', ['create', sb2File, SB_SCHEMA]);
    const sb2 = await spawnDaemon(
      'ovsdb-server',
      [sb2File, `--remote=punix:${sb2Sock}`, `--unixctl=${join(dir, 'sb2.ctl')}`, '--no-chdir', '-vconsole:err'],
      {
        name: 'ovsdb-server(sb2)',
        onLine: log,
        readyWhen: () => socketAccepts(sb2Sock),
      },
    );
    try {
      await ovs.vsctl('set', 'Open_vSwitch', '.', `external_ids:ovn-remote=unix:${sb2Sock}`);
      await waitFor(
        async () => (await runOk('ovn-sbctl', [`--db=unix:${sb2Sock}`, '--bare', '--columns=name', 'list', 'Chassis'])).trim() === systemId,
        {
          what: `chassis on the second SB (${why()})`,
        },
      );
      await ovs.vsctl('set', 'Open_vSwitch', '.', `external_ids:ovn-remote=${sbRemote}`);
      await waitFor(async () =>
        (
          await runOk('ovs-vsctl', [`--db=${ovs.dbRemote}`, 'get', 'Open_vSwitch', '.', 'external_ids:ovn-remote'], { env: ovs.env })
        ).includes(sbSock),
      );
    } finally {
      await sb2.stop();
    }

    // The local OVS database restarted: the controller reconnects and binds a new port.
    const pre = nsPrefix(ns);
    const ovsDbSock = ovs.dbSock;
    ovs.ovsdbServer.process.kill('SIGKILL');
    await ovs.ovsdbServer.exited;
    const ovsdb2 = await spawnDaemon(
      pre[0]!,
      [
        ...pre.slice(1),
        'ovsdb-server',
        join(ovs.dir, 'conf.db'),
        `--remote=punix:${ovsDbSock}`,
        `--unixctl=${join(ovs.dir, 'ovsdb-server2.ctl')}`,
        '--no-chdir',
        '-vconsole:err',
      ],
      { name: 'ovsdb-server(ovs, restarted)', env: { ...ovs.env }, onLine: log, readyWhen: () => socketAccepts(ovsDbSock) },
    );
    try {
      await addBinding('p3', 4);
      await ovs.vsctl('add-port', 'br-int', 'p3', '--', 'set', 'Interface', 'p3', 'type=internal', 'external_ids:iface-id=p3');
      await waitFor(async () => (await owner('p3')) === second, {
        what: `p3 claimed after the OVS database restart (${why()})`,
        timeoutMs: 30000,
      });
      assert.equal(await owner('ghost'), '');
      assert.ok(ctl.daemon.running(), 'controller still running');
    } finally {
      await ctl.stop();
      await ovsdb2.stop();
    }
  } finally {
    await ctl.stop();
    await ovs.stop();
    await sbd.stop();
    tmp.cleanup();
  }
});
