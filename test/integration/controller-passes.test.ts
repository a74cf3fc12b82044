/**
 * The controller's passes per port (real ovn-northd, NB/SB ovsdb-servers and
 * ovs-vswitchd; the controller with the daemon's flow pipeline in this
 * process):
 *
 * - a port is claimed, its flows installed and it is reported `up` in one
 *   pass (the claim's own SB update makes no pass of its own);
 * - a pass whose flow inputs are those already installed (here an interface
 *   column no flow reads) computes nothing and sends nothing to the switch;
 * - after each step of binds, a container port, a datapath becoming local,
 *   an unbind, a rebind and a port deleted in the NB, the table in br-int
 *   (`ovs-ofctl dump-flows`) equals the table computed from scratch on the
 *   controller's replicas, and equals it again after `recompute`.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createNetns, runId } from '../helpers/netns.js';
import { addInternalVif, startOvs } from '../helpers/ovs.js';
import { startCentral, setChassisConfig } from '../helpers/chassis.js';
import { cleanupAll, tmpDir, waitFor } from '../helpers/proc.js';
import { dumpFlows, keyDiff, tableKeys, ttlKeys } from '../helpers/flow-compare.js';
import { nbctlChain, switchBehindRouter } from '../helpers/nb-topology.js';
import { createController } from '../../src/controller/controller.js';
import { createOfctlPipeline } from '../../src/controller/pipeline.js';
import { computeTextFlows, createFlowComputer } from '../../src/controller/physical.js';
import { ovsRootRow } from '../../src/controller/ovs-config.js';

after(cleanupAll);

test(
  'one pass claims, installs and reports up; unchanged inputs compute nothing; incremental = scratch',
  { timeout: 180_000 },
  async (t) => {
    const tmp = tmpDir('ovnts-ctl-passes');
    const lines: { line: string; pass: number }[] = [];
    const central = await startCentral(tmp.path, { ctlTimeoutS: 60 });
    const { dbs, nb } = central;
    const ns = await createNetns(`${runId()}-hv`);
    const ovs = await startOvs({ netns: ns });
    await setChassisConfig(ovs, { systemId: `${runId()}-ch`, sbRemote: dbs.sbRemote });
    const saved = process.env['OVS_RUNDIR'];
    process.env['OVS_RUNDIR'] = ovs.env['OVS_RUNDIR'];
    const log = (line: string): void => void lines.push({ line, pass: ctl.stats.passes });
    // The daemon's pipeline (flow-pipeline.ts), kept as the concrete class for its bundle counter.
    const pipeline = createOfctlPipeline({ compute: createFlowComputer({ log }).compute, log });
    const ctl = createController({ ovsRemote: ovs.dbRemote, pipeline, log });
    t.after(async () => {
      await ctl.stop();
      if (saved === undefined) delete process.env['OVS_RUNDIR'];
      else process.env['OVS_RUNDIR'] = saved;
      await ovs.stop();
      await central.stop();
      tmp.cleanup();
    });
    await ctl.start();
    const why = (): string =>
      lines
        .slice(-30)
        .map((l) => `[${l.pass}] ${l.line}`)
        .join('\n');

    let step = 0;
    /** The controller has acted on everything done before this call. */
    const settled = async (): Promise<void> => {
      const mark = String(++step);
      await ovs.vsctl('set', 'Open_vSwitch', '.', `external_ids:ovnts-test-step=${mark}`);
      await ctl.openvswitch.waitUntil(() => ovsRootRow(ctl.openvswitch)?.map('external_ids').get('ovnts-test-step') === mark, 30_000);
      await ctl.idle();
      await nb('--wait=hv', 'sync');
      await ctl.idle();
    };
    /** br-int holds what a computation from scratch on the controller's replicas gives, also after a recompute. */
    const check = async (name: string): Promise<void> => {
      await settled();
      const sb = ctl.southbound;
      const facts = ctl.facts;
      assert.ok(sb !== undefined && facts !== undefined, `${name}: the controller has run a pass`);
      const installed = ttlKeys(tableKeys(await dumpFlows(ovs)));
      const errors: string[] = [];
      const scratch = ttlKeys(tableKeys(computeTextFlows(sb, facts, (m) => errors.push(m))));
      assert.deepEqual(errors, [], `${name}: translation errors`);
      assert.deepEqual(installed, scratch, `${name}: installed vs from scratch\n${keyDiff(installed, scratch, ['installed', 'scratch'])}`);
      await ctl.recompute();
      const recomputed = ttlKeys(tableKeys(await dumpFlows(ovs)));
      assert.deepEqual(installed, recomputed, `${name}: before vs after recompute\n${keyDiff(installed, recomputed, ['before', 'after'])}`);
      t.diagnostic(`${name}: ${installed.length} flows equal`);
    };
    const upInSb = (lsp: string): Promise<unknown> =>
      waitFor(async () => (await nb('get', 'Logical_Switch_Port', lsp, 'up')).trim() === 'true', { what: `${lsp} up`, timeoutMs: 60_000 });
    /** The pass that claimed `lsp` also reported it up. */
    const claimedAndUpInOnePass = (lsp: string): void => {
      const claimed = lines.filter((l) => l.line === `Claiming lport ${lsp} for this chassis.`);
      const up = lines.filter((l) => l.line === `Setting lport ${lsp} up in Southbound`);
      assert.equal(claimed.length, 1, `${lsp} claimed once\n${why()}`);
      assert.equal(up.length, 1, `${lsp} set up once\n${why()}`);
      assert.equal(up[0]!.pass, claimed[0]!.pass, `${lsp}: claim and up in the same pass\n${why()}`);
    };

    await nb(
      ...nbctlChain(
        ...switchBehindRouter('10.1.0.1/24'),
        ['lsp-add', 'sw', 'p1'],
        ['lsp-set-addresses', 'p1', '02:00:00:00:01:01 10.1.0.11'],
        ['lsp-set-port-security', 'p1', '02:00:00:00:01:01 10.1.0.11'],
        ['lsp-add', 'sw', 'p2'],
        ['lsp-set-addresses', 'p2', '02:00:00:00:01:02 10.1.0.12'],
        ['ls-add', 'solo'],
        ['lsp-add', 'solo', 'p3'],
        ['lsp-set-addresses', 'p3', '02:00:00:00:02:03 10.2.0.13'],
      ),
    );
    await waitFor(async () => (await ovs.vsctl('list-br')).includes('br-int'), { what: 'br-int' });
    await check('no port bound');

    await addInternalVif(ovs, 'p1');
    await upInSb('p1');
    claimedAndUpInOnePass('p1');
    await check('p1 bound (datapaths sw and lr become local)');

    await addInternalVif(ovs, 'p2');
    await upInSb('p2');
    claimedAndUpInOnePass('p2');
    await check('p2 bound on a local datapath');

    await nb('lsp-add', 'sw', 'c1', 'p1', '42', '--', 'lsp-set-addresses', 'c1', '02:00:00:00:01:21 10.1.0.21');
    await upInSb('c1');
    await check('container c1 inside p1');

    await addInternalVif(ovs, 'p3');
    await upInSb('p3');
    await check('p3 bound: datapath solo becomes local');

    // An interface column no flow reads: the pass it wakes computes and sends nothing.
    await settled();
    const before = { ...ctl.stats, bundles: pipeline.stats?.bundles };
    await ovs.vsctl('set', 'Interface', 'p1', 'external_ids:ovnts-test-note=x');
    await waitFor(() => ctl.stats.passes > before.passes, { what: 'a pass after the interface change' });
    await ctl.idle();
    assert.equal(pipeline.stats?.bundles, before.bundles, 'no bundle for unchanged inputs');
    assert.ok(ctl.stats.unchanged > before.unchanged, `the pass knew its inputs unchanged (${JSON.stringify(ctl.stats)})`);

    await ovs.vsctl('del-port', 'br-int', 'p2');
    await waitFor(async () => (await nb('get', 'Logical_Switch_Port', 'p2', 'up')).trim() === 'false', { what: 'p2 down' });
    await check('p2 unbound');

    await addInternalVif(ovs, 'p2b', 'p2');
    await upInSb('p2');
    await check('p2 bound again on another interface');

    await nb('lsp-del', 'p3');
    await check('p3 deleted in the NB (solo no longer local)');
  },
);
