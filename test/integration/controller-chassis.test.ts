/**
 * `ovnts controller`, OVSDB side, against the real ovn-northd and real
 * ovsdb-servers for NB and SB, on a private OVS (userspace datapath) in its own
 * namespace: it creates br-int as ovn-controller(8) describes, registers
 * Chassis / Encap / Chassis_Private, claims a VIF by iface-id and the
 * container port nested in it (up, ovn-installed and `ovn-nbctl --wait=hv` once
 * the translated flows are installed), builds and removes tunnel ports to other
 * chassis, releases ports whose interface went away, survives bad
 * configuration and keeps its chassis row across a restart.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNetns, runId } from '../helpers/netns.js';
import { startOvs } from '../helpers/ovs.js';
import { startCentral, setChassisConfig } from '../helpers/chassis.js';
import { startOvntsController } from '../helpers/ovnts-controller.js';
import { cleanupAll, run, runOk, tmpDir, waitFor } from '../helpers/proc.js';

after(cleanupAll);

test('ovnts controller: br-int, chassis, bindings, tunnels, release, restart', { timeout: 180_000 }, async () => {
  const tmp = tmpDir('ovnts-ctl-chassis');
  const dir = tmp.path;
  const lines: string[] = [];
  const log = (l: string): void => void lines.push(l);
  const central = await startCentral(dir, { log });
  const { dbs, nb, sb } = central;
  const id = runId();
  const ns = await createNetns(`${id}-hv`);
  const ovs = await startOvs({ netns: ns, log });
  const systemId = `${id}-chassis`;
  await setChassisConfig(ovs, { systemId, sbRemote: dbs.sbRemote });
  const ctlDir = join(dir, 'ctl');
  await runOk('mkdir', ['-p', ctlDir]);
  const ctx = { dbs, dir: ctlDir, log, ovs, systemId };
  let ctl = await startOvntsController(ctx);
  const why = (): string => `log:\n${lines.slice(-60).join('\n')}`;
  try {
    // br-int as ovn-controller(8) creates it.
    await waitFor(async () => (await run('ovs-vsctl', [`--db=${ovs.dbRemote}`, 'br-exists', 'br-int'], { env: ovs.env })).code === 0, {
      what: 'br-int created',
    });
    assert.equal((await ovs.vsctl('get', 'Bridge', 'br-int', 'fail_mode')).trim(), 'secure');
    assert.equal((await ovs.vsctl('get', 'Bridge', 'br-int', 'other_config:disable-in-band')).trim(), '"true"');
    assert.equal((await ovs.vsctl('get', 'Bridge', 'br-int', 'datapath_type')).trim(), 'netdev');

    // Chassis, Encap, Chassis_Private.
    await waitFor(async () => (await sb('--bare', '--columns=name', 'find', 'Chassis_Private', `name=${systemId}`)).trim() === systemId, {
      what: 'Chassis_Private',
    });
    let chassisUuid = (await sb('--bare', '--columns=_uuid', 'find', 'Chassis', `name=${systemId}`)).trim();
    assert.match(chassisUuid, /^[0-9a-f-]{36}$/);
    assert.equal((await sb('get', 'Chassis_Private', systemId, 'chassis')).trim(), chassisUuid);
    assert.equal(
      (await sb('--bare', '--columns=type,ip,options', 'find', 'Encap', `chassis_name=${systemId}`)).trim(),
      'geneve\n192.0.2.1\ncsum=true',
    );
    assert.equal((await sb('get', 'Chassis', systemId, 'other_config:datapath-type')).trim(), 'netdev');
    assert.equal((await sb('get', 'Chassis', systemId, 'other_config:port-up-notif')).trim(), '"true"');

    // A VIF and a container port nested in it.
    await nb('ls-add', 'sw');
    await nb('lsp-add', 'sw', 'p1');
    await nb('lsp-set-addresses', 'p1', '02:00:00:00:00:01 10.0.0.1');
    await nb('lsp-add', 'sw', 'p1c', 'p1', '42');
    await nb('lsp-add', 'sw', 'other');
    await nb('--wait=sb', 'sync');
    await ovs.vsctl('add-port', 'br-int', 'p1', '--', 'set', 'Interface', 'p1', 'type=internal', 'external_ids:iface-id=p1');
    for (const lp of ['p1', 'p1c']) {
      await waitFor(
        async () => (await sb('--bare', '--columns=chassis', 'find', 'Port_Binding', `logical_port=${lp}`)).trim() === chassisUuid,
        {
          what: `${lp} claimed (${why()})`,
        },
      );
    }
    assert.equal((await sb('--bare', '--columns=chassis', 'find', 'Port_Binding', 'logical_port=other')).trim(), '');
    // With the flow translation in this build: flows installed, then up, ovn-installed and --wait=hv.
    await runOk('ovn-nbctl', [`--db=${dbs.nbRemote}`, '--timeout=30', '--wait=hv', 'sync']);
    for (const lp of ['p1', 'p1c']) {
      await waitFor(async () => (await nb('get', 'Logical_Switch_Port', lp, 'up')).trim() === 'true', { what: `NB ${lp} up (${why()})` });
    }
    assert.equal((await ovs.vsctl('get', 'Interface', 'p1', 'external_ids:ovn-installed')).trim(), '"true"');
    assert.equal((await sb('get', 'Chassis_Private', systemId, 'nb_cfg')).trim(), (await nb('get', 'NB_Global', '.', 'nb_cfg')).trim());
    assert.equal((await sb('--bare', '--columns=up', 'find', 'Port_Binding', 'logical_port=other')).trim(), 'false');

    // A gateway router pinned to this chassis: its l3gateway bindings are claimed here; a localport is not.
    await nb('lr-add', 'gw', '--', 'set', 'Logical_Router', 'gw', `options:chassis=${systemId}`);
    await nb('lrp-add', 'gw', 'gw-sw', '02:00:00:00:00:aa', '10.0.0.254/24');
    await nb('lsp-add', 'sw', 'sw-gw', '--', 'lsp-set-type', 'sw-gw', 'router', '--', 'lsp-set-options', 'sw-gw', 'router-port=gw-sw');
    await nb('lsp-add', 'sw', 'lp', '--', 'lsp-set-type', 'lp', 'localport');
    await ovs.vsctl('add-port', 'br-int', 'lp', '--', 'set', 'Interface', 'lp', 'type=internal', 'external_ids:iface-id=lp');
    for (const lp of ['gw-sw', 'sw-gw']) {
      await waitFor(
        async () => (await sb('--bare', '--columns=chassis', 'find', 'Port_Binding', `logical_port=${lp}`)).trim() === chassisUuid,
        {
          what: `l3gateway ${lp} claimed (${why()})`,
        },
      );
    }
    await nb('remove', 'Logical_Router', 'gw', 'options', 'chassis');
    await nb('lr-del', 'gw');
    await nb('lsp-del', 'sw-gw');
    assert.equal((await sb('--bare', '--columns=chassis', 'find', 'Port_Binding', 'logical_port=lp')).trim(), '');

    // A localnet port on a local datapath, mapped to br-phys: a patch pair as ovn-controller names it.
    await ovs.vsctl('add-br', 'br-phys', '--', 'set', 'Bridge', 'br-phys', 'datapath_type=netdev');
    await ovs.vsctl('set', 'Open_vSwitch', '.', 'external_ids:ovn-bridge-mappings=physnet1:br-phys');
    await nb('lsp-add', 'sw', 'ln', '--', 'lsp-set-type', 'ln', 'localnet', '--', 'lsp-set-options', 'ln', 'network_name=physnet1');
    await waitFor(async () => (await ovs.vsctl('list-ports', 'br-phys')).trim() === 'patch-ln-to-br-int', {
      what: `localnet patch on br-phys (${why()})`,
    });
    assert.ok((await ovs.vsctl('list-ports', 'br-int')).split('\n').includes('patch-br-int-to-ln'));
    assert.equal((await ovs.vsctl('get', 'Interface', 'patch-br-int-to-ln', 'options:peer')).trim(), 'patch-ln-to-br-int');
    assert.equal((await ovs.vsctl('get', 'Port', 'patch-ln-to-br-int', 'external_ids:ovn-localnet-port')).trim(), 'ln');
    await nb('lsp-del', 'ln');
    await waitFor(async () => (await ovs.vsctl('list-ports', 'br-phys')).trim() === '', { what: 'localnet patch removed' });

    // Tunnels to other chassis: one per chassis, named and marked as ovn-controller does.
    await sb('chassis-add', 'hv-remote-2', 'geneve', '192.0.2.2');
    await sb('chassis-add', 'hv-vxlan-only', 'vxlan', '192.0.2.3');
    const tunnel = await waitFor(
      async () =>
        (await ovs.vsctl('--bare', '--columns=name', 'find', 'Port', 'external_ids:ovn-chassis-id="hv-remote-2@192.0.2.2"')).trim(),
      { what: `tunnel port to hv-remote-2 (${why()})` },
    );
    assert.equal(tunnel, 'ovn-hv-rem-0');
    assert.equal((await ovs.vsctl('get', 'Interface', tunnel, 'type')).trim(), 'geneve');
    assert.equal((await ovs.vsctl('get', 'Interface', tunnel, 'options')).trim(), '{csum="true", key=flow, remote_ip="192.0.2.2"}');
    // No common encapsulation: no tunnel.
    assert.equal(
      (await ovs.vsctl('--bare', '--columns=name', 'find', 'Port', 'external_ids:ovn-chassis-id="hv-vxlan-only@192.0.2.3"')).trim(),
      '',
    );
    await sb('chassis-del', 'hv-remote-2');
    await waitFor(async () => (await run('ovs-vsctl', [`--db=${ovs.dbRemote}`, 'port-to-br', tunnel], { env: ovs.env })).code !== 0, {
      what: 'tunnel port removed',
    });

    // An encap IP change replaces the Encap; a chassis deleted behind its back comes back and reclaims.
    await ovs.vsctl('set', 'Open_vSwitch', '.', 'external_ids:ovn-encap-ip=192.0.2.9');
    await waitFor(async () => (await sb('--bare', '--columns=ip', 'find', 'Encap', `chassis_name=${systemId}`)).trim() === '192.0.2.9', {
      what: 'Encap ip updated',
    });
    await sb('chassis-del', systemId);
    const newUuid = await waitFor(async () => (await sb('--bare', '--columns=_uuid', 'find', 'Chassis', `name=${systemId}`)).trim(), {
      what: 'chassis re-registered',
    });
    assert.notEqual(newUuid, chassisUuid);
    await waitFor(async () => (await sb('--bare', '--columns=chassis', 'find', 'Port_Binding', 'logical_port=p1')).trim() === newUuid, {
      what: `p1 reclaimed (${why()})`,
    });
    await ovs.vsctl('set', 'Open_vSwitch', '.', 'external_ids:ovn-encap-ip=192.0.2.1');
    chassisUuid = newUuid;

    // Bad configuration is logged, not fatal; fixing it resumes service.
    await ovs.vsctl('set', 'Open_vSwitch', '.', 'external_ids:ovn-encap-type=bogus');
    await waitFor(
      () => lines.some((l) => /Unknown tunnel type: bogus/.test(l)) || readLog(ctl.logFile).includes('Unknown tunnel type: bogus'),
      {
        what: 'config error logged',
      },
    );
    assert.ok(ctl.daemon.running(), 'controller still running');
    await ovs.vsctl('set', 'Open_vSwitch', '.', 'external_ids:ovn-encap-type=geneve');

    // A restart keeps the chassis row (no duplicate, same UUID) and the claims.
    await ctl.stop();
    ctl = await startOvntsController(ctx);
    await waitFor(async () => (await sb('--bare', '--columns=name', 'list', 'Chassis')).includes(systemId), {
      what: 'chassis after restart',
    });
    assert.equal((await sb('--bare', '--columns=_uuid', 'find', 'Chassis', `name=${systemId}`)).trim(), chassisUuid);
    assert.equal((await sb('--bare', '--columns=_uuid', 'find', 'Encap', `chassis_name=${systemId}`)).trim().split('\n').length, 1);

    // The interface goes away: both ports are released.
    await ovs.vsctl('del-port', 'br-int', 'p1');
    for (const lp of ['p1', 'p1c']) {
      await waitFor(async () => (await sb('--bare', '--columns=chassis', 'find', 'Port_Binding', `logical_port=${lp}`)).trim() === '', {
        what: `${lp} released (${why()})`,
      });
    }
    assert.ok(ctl.daemon.running(), 'controller still running');
  } finally {
    await ctl.stop();
    await ovs.stop();
    await central.stop();
    tmp.cleanup();
  }
});

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
