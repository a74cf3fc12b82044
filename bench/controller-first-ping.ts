/**
 * bench:controller-first-ping — port created → first successful ping, the
 * OpenFlow table size, and the controller's CPU per port added (user + system
 * time over the ports' run, from /proc; and over the second half of the ports
 * alone, after most of V8's JIT warm-up): `ovnts controller` against the real `ovn-controller`,
 * each on its own fresh setup (real NB/SB ovsdb-servers and ovn-northd, a
 * private userspace OVS in a namespace). A target VIF (10.0.0.1) exists first;
 * then, one at a time, a logical port is created and its OVS internal port
 * (iface-id) moved into a namespace with its address; the time from the first
 * command to the first ping reply from the target is measured.
 *
 * BENCH_PORTS (default 30), BENCH_KINDS (default `real,ovnts`; `ovnts-ofctl` is ovnts with
 * its ovs-ofctl flow link), BENCH_VERBOSE (per-port lines on stderr).
 *
 * Not a test (timings); run: `npm run build && node dist/bench/controller-first-ping.js`.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNetns, deleteNetns, runId } from '../test/helpers/netns.js';
import { startOvs, type OvsInstance } from '../test/helpers/ovs.js';
import { setChassisConfig, startCentral, startRealController } from '../test/helpers/chassis.js';
import { startOvntsController } from '../test/helpers/ovnts-controller.js';
import { cleanupAll, run, runOk, tmpDir, waitFor, type Daemon } from '../test/helpers/proc.js';

const N = Number(process.env['BENCH_PORTS'] ?? 30);

/** `ovnts` installs flows over its own OpenFlow connection (the default), `ovnts-ofctl` through ovs-ofctl. */
type Kind = 'real' | 'ovnts' | 'ovnts-ofctl';
const KINDS = (process.env['BENCH_KINDS'] ?? 'real,ovnts').split(',') as Kind[];

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

const mac = (i: number): string =>
  `02:00:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
const ip = (i: number): string => `10.0.${(i >> 8) & 255}.${i & 255}`;

async function addVif(ovs: OvsInstance, hvNs: string, i: number, nbRemote: string): Promise<string> {
  const name = `v${i}`;
  await runOk('ovn-nbctl', [`--db=${nbRemote}`, 'lsp-add', 'sw', name, '--', 'lsp-set-addresses', name, `${mac(i)} ${ip(i)}`]);
  await ovs.vsctl('add-port', 'br-int', name, '--', 'set', 'Interface', name, 'type=internal', `external_ids:iface-id=${name}`);
  await waitFor(async () => (await run('ip', ['-n', hvNs, 'link', 'show', name])).code === 0, { what: `tap ${name}`, intervalMs: 5 });
  const ns = await createNetns(`${hvNs.slice(0, 7)}-${name}`);
  await runOk('ip', ['-n', hvNs, 'link', 'set', name, 'address', mac(i)]);
  await runOk('ip', ['-n', hvNs, 'link', 'set', name, 'netns', ns]);
  await runOk('ip', ['-n', ns, 'addr', 'add', `${ip(i)}/16`, 'dev', name]);
  await runOk('ip', ['-n', ns, 'link', 'set', name, 'up']);
  return ns;
}

/** User and system CPU time of a process so far (ms), from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number | undefined): { user: number; sys: number } {
  if (pid === undefined) return { user: NaN, sys: NaN };
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return { user: Number(fields[11]) * 10, sys: Number(fields[12]) * 10 };
}

/** The controller's per-change log lines (`flows +A ~M -R of N: compute … ms, bundle … ms, barrier … ms`) summarised. */
function installSummary(log: string): string {
  const cols: Record<string, number[]> = { compute: [], bundle: [], barrier: [] };
  for (const m of log.matchAll(/flows \+\d+ ~\d+ -\d+ of \d+: (.*)$/gm)) {
    for (const [, k, v] of (m[1] ?? '').matchAll(/(compute|bundle|barrier) ([\d.]+) ms/g)) cols[k!]?.push(Number(v));
  }
  return `${cols['bundle']!.length} table changes; ${Object.entries(cols)
    .map(([k, xs]) => `${k} p50 ${pct(xs, 50)} ms max ${Math.max(...xs)} ms`)
    .join(', ')}`;
}

/** `ovnts controller` with its flow link chosen through the environment it inherits. */
async function startOvnts(link: 'openflow' | 'ovs-ofctl', ctx: Parameters<typeof startOvntsController>[0]): Promise<Daemon> {
  process.env['OVNTS_FLOW_LINK'] = link;
  try {
    return (await startOvntsController(ctx)).daemon;
  } finally {
    delete process.env['OVNTS_FLOW_LINK'];
  }
}

async function measure(kind: Kind): Promise<{ times: number[]; flows: number; cpu: { user: number; sys: number }; cpuLate: number }> {
  const tmp = tmpDir(`ovnts-bench-ping-${kind}`);
  const dir = tmp.path;
  const central = await startCentral(dir);
  const { dbs } = central;
  const hv = await createNetns(`${runId()}-hv`);
  const ovs = await startOvs({ netns: hv });
  const systemId = `bench-${kind}`;
  await setChassisConfig(ovs, { systemId, sbRemote: dbs.sbRemote });
  const cdir = join(dir, 'c');
  mkdirSync(cdir);
  const controller =
    kind === 'real'
      ? await startRealController(ovs, cdir)
      : await startOvnts(kind === 'ovnts-ofctl' ? 'ovs-ofctl' : 'openflow', { dbs, dir: cdir, log: () => undefined, ovs, systemId });
  const namespaces: string[] = [];
  const times: number[] = [];
  let flows = 0;
  let cpu = { user: NaN, sys: NaN };
  // The second half's CPU alone: a fresh node process spends much of the first ports compiling (V8's optimizing JIT).
  let cpuLate = NaN;
  let cpuMid = { user: NaN, sys: NaN };
  const mid = 2 + Math.floor(N / 2);
  try {
    await runOk('ovn-nbctl', [`--db=${dbs.nbRemote}`, 'ls-add', 'sw']);
    await waitFor(async () => (await ovs.vsctl('list-br')).includes('br-int'), { what: 'br-int' });
    namespaces.push(await addVif(ovs, hv, 1, dbs.nbRemote));
    await runOk('ovn-nbctl', [`--db=${dbs.nbRemote}`, '--wait=hv', 'sync']);
    const cpu0 = cpuMs(controller.process.pid);
    for (let i = 2; i < N + 2; i++) {
      if (i === mid) cpuMid = cpuMs(controller.process.pid);
      const t0 = performance.now();
      const ns = await addVif(ovs, hv, i, dbs.nbRemote);
      namespaces.push(ns);
      const t1 = performance.now();
      let tries = 0;
      await waitFor(async () => (tries++, (await run('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '0.2', ip(1)])).code === 0), {
        what: `first ping from v${i}`,
        intervalMs: 1,
        timeoutMs: 30000,
      });
      if (process.env['BENCH_VERBOSE'] !== undefined)
        process.stderr.write(
          `${kind} v${i}: setup ${(t1 - t0).toFixed(0)} ms, ping tries ${tries}, ping ${(performance.now() - t1).toFixed(0)} ms\n`,
        );
      times.push(performance.now() - t0);
    }
    const cpu1 = cpuMs(controller.process.pid);
    cpu = { user: cpu1.user - cpu0.user, sys: cpu1.sys - cpu0.sys };
    cpuLate = (cpu1.user + cpu1.sys - cpuMid.user - cpuMid.sys) / (N + 2 - mid);
    flows = (await ovs.ofctl('-O', 'OpenFlow15', '--no-stats', 'dump-flows', 'br-int'))
      .split('\n')
      .filter((l) => l.includes('actions=')).length;
    if (process.env['BENCH_VERBOSE'] !== undefined && kind !== 'real')
      process.stderr.write(`${kind}: ${installSummary(readFileSync(join(cdir, 'ovnts-controller.log'), 'utf8'))}\n`);
  } finally {
    for (const ns of namespaces) await deleteNetns(ns);
    await controller.stop();
    await ovs.stop();
    await deleteNetns(hv);
    await central.stop();
    tmp.cleanup();
  }
  return { times, flows, cpu, cpuLate };
}

const rows: string[] = [];
for (const kind of KINDS) {
  const { times, flows, cpu, cpuLate } = await measure(kind);
  rows.push(
    `${kind.padEnd(11)} ports=${times.length} p50=${pct(times, 50).toFixed(0)}ms p99=${pct(times, 99).toFixed(0)}ms max=${Math.max(...times).toFixed(0)}ms  flows=${flows} (${(flows / (times.length + 1)).toFixed(1)}/port incl. fixed)  controller-cpu=${((cpu.user + cpu.sys) / times.length).toFixed(1)}ms/port (user ${(cpu.user / times.length).toFixed(1)}, sys ${(cpu.sys / times.length).toFixed(1)})  cpu-2nd-half=${cpuLate.toFixed(1)}ms/port`,
  );
}
process.stdout.write(`port created (lsp-add + add-port + netns setup included) -> first ping reply\n${rows.join('\n')}\n`);
await cleanupAll();
