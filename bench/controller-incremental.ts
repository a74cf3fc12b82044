/**
 * bench:controller-incremental — what one more port costs a chassis that
 * already has many: N VIFs (with addresses and port security) on one switch
 * behind a router, all bound on this chassis; then one more is added and the
 * flow computation of the passes it causes is timed.
 *
 * - real `ovn-controller`: its `flow-generation` stopwatch (ovn-appctl
 *   stopwatch/show), reset just before the change;
 * - ovnts: the controller component in this process with the daemon's flow
 *   pipeline, its `ComputeFlows` wrapped in a timer: `createFlowComputer`
 *   (incremental, what the daemon runs) or, as `ovnts-full`,
 *   `computeTextFlows` (every pass from scratch, what it ran before). The same
 *   final state is then also computed from scratch for comparison.
 *
 * `BENCH_KINDS` (default `real,ovnts,ovnts-full`) picks the runs.
 *
 * Each on its own fresh setup (real NB/SB ovsdb-servers, real ovn-northd, a
 * private userspace OVS in a namespace). Not a test (timings); run:
 * `npm run build && BENCH_PORTS=200 node dist/bench/controller-incremental.js`.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createNetns, deleteNetns, runId } from '../test/helpers/netns.js';
import { startOvs, type OvsInstance } from '../test/helpers/ovs.js';
import { setChassisConfig, startCentral, startRealController } from '../test/helpers/chassis.js';
import { cleanupAll, runOk, tmpDir, waitFor } from '../test/helpers/proc.js';
import { OvsdbClient } from '../src/ovsdb/client.js';
import { createController, type ChassisFacts } from '../src/controller/controller.js';
import { createOfctlPipeline, type ComputeFlows } from '../src/controller/pipeline.js';
import * as physical from '../src/controller/physical.js';
import { nbctlChain, switchBehindRouter } from '../test/helpers/nb-topology.js';

const N = Number(process.env['BENCH_PORTS'] ?? 200);
type Kind = 'real' | 'ovnts' | 'ovnts-full';

const mac = (i: number): string =>
  `02:00:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
const ip = (i: number): string => `10.1.${(i >> 8) & 0xff}.${(i & 0xff) + 0}`;

function nbPortArgs(i: number): string[] {
  const p = `p${i}`;
  const addr = `${mac(i + 16)} ${ip(i + 16)}`;
  return ['--', 'lsp-add', 'sw', p, '--', 'lsp-set-addresses', p, addr, '--', 'lsp-set-port-security', p, addr];
}

async function addIfaces(ovs: OvsInstance, from: number, to: number): Promise<void> {
  const args: string[] = ['--may-exist', 'add-br', 'br-int'];
  for (let i = from; i < to; i++)
    args.push('--', 'add-port', 'br-int', `p${i}`, '--', 'set', 'Interface', `p${i}`, 'type=internal', `external_ids:iface-id=p${i}`);
  await ovs.vsctl(...args);
}

function makeCompute(kind: Kind): { compute: ComputeFlows; label: string } {
  if (kind === 'ovnts-full') return { compute: physical.computeFlows, label: 'computeFlows (full)' };
  const c = physical.createFlowComputer();
  return { compute: (sb, f) => c.compute(sb, f), label: 'createFlowComputer (incremental)' };
}

interface Result {
  readonly line: string;
}

async function measure(kind: Kind): Promise<Result> {
  const tmp = tmpDir(`ovnts-bench-incr-${kind}`);
  const dir = tmp.path;
  const central = await startCentral(dir, { ctlTimeoutS: 120 });
  const { dbs, nb } = central;
  const ns = await createNetns(`${runId()}-bi`);
  const ovs = await startOvs({ netns: ns });
  const systemId = `bench-${kind}`;
  await setChassisConfig(ovs, { systemId, sbRemote: dbs.sbRemote });
  const args = nbctlChain(...switchBehindRouter('10.1.0.1/16'));
  for (let i = 0; i < N; i++) args.push(...nbPortArgs(i));
  await nb('--wait=sb', ...args);

  const cdir = join(dir, 'c');
  mkdirSync(cdir);
  const times: number[] = [];
  let stop: () => Promise<unknown>;
  let label: string;
  let full: (() => number) | undefined;
  let appctl: ((...a: string[]) => Promise<string>) | undefined;
  if (kind === 'real') {
    const d = await startRealController(ovs, cdir);
    stop = () => d.stop();
    label = 'ovn-controller flow-generation stopwatch';
    // ovn-controller 23.03 has no --unixctl: its socket is $OVN_RUNDIR/ovn-controller.<pid>.ctl.
    const ctl = join(
      cdir,
      `ovn-controller.${await waitFor(
        () =>
          readdirSync(cdir)
            .map((f) => /^ovn-controller\.(\d+)\.ctl$/.exec(f)?.[1])
            .find((x) => x !== undefined),
        { what: 'control socket' },
      )}.ctl`,
    );
    appctl = (...a) => runOk('ovn-appctl', ['-t', ctl, ...a]);
  } else {
    const { compute, label: l } = makeCompute(kind);
    label = l;
    let lastSb: OvsdbClient | undefined;
    let lastFacts: ChassisFacts | undefined;
    const timed: ComputeFlows = (sb, facts) => {
      const t0 = performance.now();
      const out = compute(sb, facts);
      times.push(performance.now() - t0);
      lastSb = sb;
      lastFacts = facts;
      return out;
    };
    const pipeline = createOfctlPipeline({ compute: timed, env: { ...process.env, ...ovs.env } });
    const c = createController({ ovsRemote: ovs.dbRemote, pipeline });
    await c.start();
    stop = () => c.stop();
    full = () => {
      const t0 = performance.now();
      physical.computeTextFlows(lastSb!, lastFacts!);
      return performance.now() - t0;
    };
  }
  try {
    await waitFor(async () => (await ovs.vsctl('list-br')).includes('br-int'), { what: 'br-int', timeoutMs: 60_000 });
    await addIfaces(ovs, 0, N);
    // All N ports up: their flows are installed.
    await nb('--wait=hv', 'sync');
    await waitFor(
      async () =>
        (await nb('--bare', '--columns=up', 'find', 'Logical_Switch_Port', 'up=true')).split('\n').filter((l) => l.trim() === 'true')
          .length >= N,
      {
        what: 'all ports up',
        timeoutMs: 600_000,
        intervalMs: 500,
      },
    );
    await new Promise((r) => setTimeout(r, 2000));
    times.length = 0;
    await appctl?.('stopwatch/reset');
    await nb(...nbPortArgs(N).slice(1));
    await addIfaces(ovs, N, N + 1);
    await waitFor(async () => (await nb('get', 'Logical_Switch_Port', `p${N}`, 'up')).trim() === 'true', {
      what: 'new port up',
      timeoutMs: 120_000,
      intervalMs: 50,
    });
    await nb('--wait=hv', 'sync');
    await new Promise((r) => setTimeout(r, 1000));
    if (appctl !== undefined) {
      const sw = await appctl('stopwatch/show', 'flow-generation');
      const samples = /Total samples: (\d+)/.exec(sw)?.[1];
      const max = /Maximum: ([\d.]+)/.exec(sw)?.[1];
      const avg = /Long term average: ([\d.]+)/.exec(sw)?.[1];
      return { line: `${kind.padEnd(10)} ${label}: samples=${samples} max=${max}ms avg=${avg}ms` };
    }
    const sum = times.reduce((a, b) => a + b, 0);
    const fullMs = full!();
    return {
      line: `${kind.padEnd(10)} ${label}: passes=${times.length} max=${Math.max(...times).toFixed(1)}ms sum=${sum.toFixed(1)}ms [${times.map((t) => t.toFixed(1)).join(' ')}]; from scratch on the same state: ${fullMs.toFixed(1)}ms`,
    };
  } finally {
    await stop();
    await ovs.stop();
    await deleteNetns(ns);
    await central.stop();
    tmp.cleanup();
  }
}

const lines: string[] = [];
for (const kind of (process.env['BENCH_KINDS'] ?? 'real,ovnts,ovnts-full').split(',') as Kind[]) lines.push((await measure(kind)).line);
process.stdout.write(`${N} local ports, one more added: flow computation per pass\n${lines.join('\n')}\n`);
await cleanupAll();
