/**
 * The controller's "flows installed" barrier end to end, with the real
 * ovn-northd, real NB/SB ovsdb-servers and a real ovs-vswitchd: the controller
 * component runs in this process with the ovs-ofctl pipeline, whose flow
 * computation here is a small stand-in for the lflow translation (table 0
 * classification of each local VIF, as ovn-architecture(7) describes the
 * first physical stage — not the OVN pipeline). What is checked is the
 * daemon's part: Port_Binding `up` and `ovn-installed` only after the flows
 * for the port are in br-int, `ovn-nbctl --wait=hv` returning through
 * Chassis_Private nb_cfg, NB `up`, the Geneve TLV map, a restarted
 * controller reconciling without flushing (flow counters kept) and a
 * restarted ovs-vswitchd getting its flows back — over both flow links
 * (ovs-ofctl, and the native OpenFlow connection).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createNetns, runId } from '../helpers/netns.js';
import { startOvs } from '../helpers/ovs.js';
import { startCentral, setChassisConfig } from '../helpers/chassis.js';
import { cleanupAll, runOk, spawnDaemon, tmpDir, waitFor } from '../helpers/proc.js';
import { createController, type ChassisFacts } from '../../src/controller/controller.js';
import { createOfctlPipeline } from '../../src/controller/pipeline.js';
import { flowOfText, type TextFlow } from '../../src/controller/ofctl-link.js';
import type { Flow } from '../../src/openflow/flow.js';
import type { OvsdbClient } from '../../src/ovsdb/client.js';

after(cleanupAll);

/** Table 0 only: each local VIF's packets get its datapath and port keys and go to table 8. */
function classifyVifs(sb: OvsdbClient, facts: ChassisFacts): Flow[] {
  const flows: TextFlow[] = [{ table: 0, priority: 0, match: '', actions: 'drop' }];
  for (const v of facts.bindings.vifs.values()) {
    const dp = sb.row('Datapath_Binding', v.datapath);
    if (dp === undefined) continue;
    flows.push({
      table: 0,
      priority: 100,
      match: `in_port=${v.ofport}`,
      actions: `set_field:0x${Number(dp.scalar('tunnel_key')).toString(16)}->metadata,set_field:0x${v.tunnelKey.toString(16)}->reg14,resubmit(,8)`,
    });
  }
  return flows.map(flowOfText);
}

for (const link of ['ovs-ofctl', 'openflow'] as const) {
  test(
    `${link} link: ports up and ovn-nbctl --wait=hv only once their flows are in br-int; restarts keep or restore flows`,
    { timeout: 120_000 },
    async () => {
      const tmp = tmpDir('ovnts-ctl-up');
      const dir = tmp.path;
      const lines: string[] = [];
      const log = (l: string): void => void lines.push(l);
      const central = await startCentral(dir, { log });
      const { dbs, nb, sb } = central;
      const ns = await createNetns(`${runId()}-hv`);
      const ovs = await startOvs({ netns: ns, log });
      const systemId = 'hv-up';
      await setChassisConfig(ovs, { systemId, sbRemote: dbs.sbRemote });
      const env = { ...process.env, ...ovs.env };
      const make = (): ReturnType<typeof createController> =>
        createController({ ovsRemote: ovs.dbRemote, pipeline: createOfctlPipeline({ compute: classifyVifs, env, log, link }), log });
      let ctl = make();
      await ctl.start();
      const why = (): string => lines.slice(-40).join('\n');
      try {
        await nb('ls-add', 'sw');
        await nb('lsp-add', 'sw', 'p1');
        await nb('lsp-set-addresses', 'p1', '02:00:00:00:00:01 10.0.0.1');
        await nb('--wait=sb', 'sync');
        await waitFor(async () => (await ovs.vsctl('list-br')).includes('br-int'), { what: 'br-int' });
        await ovs.vsctl('add-port', 'br-int', 'p1', '--', 'set', 'Interface', 'p1', 'type=internal', 'external_ids:iface-id=p1');
        const ofport = Number(
          await waitFor(
            async () =>
              Number((await ovs.vsctl('get', 'Interface', 'p1', 'ofport')).trim()) > 0 &&
              (await ovs.vsctl('get', 'Interface', 'p1', 'ofport')).trim(),
          ),
        );

        // --wait=hv returns only once this chassis reported the NB change's nb_cfg as installed.
        await runOk('ovn-nbctl', [`--db=${dbs.nbRemote}`, '--timeout=30', '--wait=hv', 'sync']);
        const nbCfg = (await nb('get', 'NB_Global', '.', 'nb_cfg')).trim();
        assert.equal((await sb('get', 'Chassis_Private', systemId, 'nb_cfg')).trim(), nbCfg);
        assert.ok(Number((await sb('get', 'Chassis_Private', systemId, 'nb_cfg_timestamp')).trim()) > 0);

        await waitFor(async () => (await nb('get', 'Logical_Switch_Port', 'p1', 'up')).trim() === 'true', { what: `NB up (${why()})` });
        assert.equal((await sb('--bare', '--columns=up', 'find', 'Port_Binding', 'logical_port=p1')).trim(), 'true');
        assert.equal((await ovs.vsctl('get', 'Interface', 'p1', 'external_ids:ovn-installed')).trim(), '"true"');
        // The port's flow is in br-int: up was reported after it was installed.
        const flows = await ovs.ofctl('-O', 'OpenFlow15', '--no-stats', 'dump-flows', 'br-int', `in_port=${ofport}`);
        assert.match(flows, /priority=100,in_port=\d+ actions=set_field:0x1->metadata,set_field:0x1->reg14,resubmit\(,8\)/);
        assert.match(await ovs.ofctl('-O', 'OpenFlow15', 'dump-tlv-map', 'br-int'), /0x102\s+0x80\s+4\s+tun_metadata0/);
        assert.equal((await ovs.vsctl('get', 'Bridge', 'br-int', 'external_ids:ovn-nb-cfg')).trim(), `"${nbCfg}"`);

        // A packet on the port's flow, then a controller restart: the flow is not removed and re-added.
        const frame = `ffffffffffff020000000001${'0806'}${'00'.repeat(28)}`;
        await ovs.ofctl('-O', 'OpenFlow15', 'packet-out', 'br-int', `in_port=${ofport} packet=${frame} actions=resubmit(,0)`);
        const count = async (): Promise<string> =>
          /n_packets=(\d+)/.exec(await ovs.ofctl('-O', 'OpenFlow15', 'dump-flows', 'br-int', `table=0,in_port=${ofport}`))?.[1] ?? '';
        assert.equal(await count(), '1');
        await ctl.stop();
        ctl = make();
        await ctl.start();
        await nb('lsp-add', 'sw', 'p2');
        await runOk('ovn-nbctl', [`--db=${dbs.nbRemote}`, '--timeout=30', '--wait=hv', 'sync']);
        assert.equal(await count(), '1', 'flow kept across the restart');

        // A second port: not up before its interface exists; up after.
        assert.notEqual((await sb('--bare', '--columns=up', 'find', 'Port_Binding', 'logical_port=p2')).trim(), 'true');
        await ovs.vsctl('add-port', 'br-int', 'p2', '--', 'set', 'Interface', 'p2', 'type=internal', 'external_ids:iface-id=p2');
        await waitFor(async () => (await nb('get', 'Logical_Switch_Port', 'p2', 'up')).trim() === 'true', { what: `p2 up (${why()})` });
        assert.match(await ovs.ofctl('-O', 'OpenFlow15', '--no-stats', 'dump-flows', 'br-int', 'table=0'), /set_field:0x2->reg14/);

        // ovs-vswitchd restarted (its flow table and TLV map start empty): the controller reinstalls both.
        const before = (await ovs.ofctl('-O', 'OpenFlow15', '--no-stats', 'dump-flows', 'br-int'))
          .split('\n')
          .filter((l) => l.includes('actions='))
          .sort();
        const ctlPath = ovs.vswitchdCtl;
        await runOk('ovs-appctl', ['-t', ctlPath, 'exit'], { env: ovs.env });
        await ovs.vswitchd.exited;
        const pre = ['ip', 'netns', 'exec', ns];
        const vswitchd2 = await spawnDaemon(
          pre[0]!,
          [
            ...pre.slice(1),
            'ovs-vswitchd',
            ovs.dbRemote,
            `--unixctl=${ctlPath}`,
            `--log-file=${join(ovs.dir, 'ovs-vswitchd2.log')}`,
            '--no-chdir',
            '-vconsole:err',
          ],
          {
            name: 'ovs-vswitchd (restarted)',
            env: { ...ovs.env },
            onLine: log,
            readyWhen: async () =>
              await runOk('ovs-appctl', ['-t', ctlPath, 'version'], { env: ovs.env }).then(
                () => true,
                () => false,
              ),
          },
        );
        try {
          await waitFor(
            async () =>
              // ovs-vswitchd answers `version` before it has created br-int again: until then the dump fails.
              JSON.stringify(
                (await ovs.ofctl('-O', 'OpenFlow15', '--no-stats', 'dump-flows', 'br-int').catch(() => ''))
                  .split('\n')
                  .filter((l) => l.includes('actions='))
                  .sort(),
              ) === JSON.stringify(before),
            { what: `flows reinstalled after the ovs-vswitchd restart (${why()})` },
          );
          assert.match(await ovs.ofctl('-O', 'OpenFlow15', 'dump-tlv-map', 'br-int'), /0x102\s+0x80\s+4\s+tun_metadata0/);
        } finally {
          await runOk('ovs-appctl', ['-t', ctlPath, 'exit', '--cleanup'], { env: ovs.env }).catch(() => undefined);
          await vswitchd2.stop();
        }
      } finally {
        await ctl.stop();
        await ovs.stop();
        await central.stop();
        tmp.cleanup();
      }
    },
  );
}
