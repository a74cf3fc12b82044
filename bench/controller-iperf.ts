/**
 * bench:controller-iperf — TCP throughput between the seed lab's nested
 * containers c51 → c52 (VLAN 51 and 52 under vm5's port, one logical switch),
 * with the flows of `ovnts controller` against those of the real
 * `ovn-controller`. Two seed labs (test/helpers/ovn-lab.ts: real NB/SB
 * ovsdb-servers and ovn-northd, a private userspace OVS) are built first, one
 * per controller; then iperf3 runs REPS times alternately on each (real
 * first), so machine noise hits both alike.
 *
 * Beside the throughput it reports what would explain a difference: OpenFlow
 * flows in br-int, the datapath flows (megaflows) carrying c51 <-> c52 in the
 * middle of a run, the datapath misses (upcalls) during the runs
 * (`ovs-appctl dpctl/show`), and the controllers' CPU during their own and
 * during the other side's runs (both labs stay up, so an idle controller that
 * burns CPU slows the other side down).
 * BENCH_DUMP=DIR writes each side's `ovs-ofctl dump-flows br-int` and
 * `dpctl/dump-flows` there for a closer look.
 *
 * BENCH_SECONDS per run (10), BENCH_REPS (3).
 * Not a test (timings); run: `npm run build && node dist/bench/controller-iperf.js`.
 * The last stdout line is a JSON summary for bench/controller.ts.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nsRun } from '../test/helpers/netns.js';
import { runSeedLab, startOvnDatabases, type LabDatabases, type LabResult } from '../test/helpers/ovn-lab.js';
import { startOvntsController } from '../test/helpers/ovnts-controller.js';
import { cleanupAll, spawnDaemon, tmpDir, type Daemon } from '../test/helpers/proc.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const REPS = Number(process.env['BENCH_REPS'] ?? 3);
const DUMP = process.env['BENCH_DUMP'];
const VERBOSE = process.env['BENCH_VERBOSE'] !== undefined;

type Kind = 'real' | 'ovnts';

interface Lab {
  readonly kind: Kind;
  readonly lab: LabResult;
  readonly dbs: LabDatabases;
  readonly server: Daemon;
  /** c52's leased address, iperf3's destination. */
  readonly dest: string;
  readonly c51: string;
  /** c51's leased address. */
  readonly src: string;
  /** The controller's process id (from its pid file). */
  readonly controllerPid: number;
  stop(): Promise<void>;
}

interface Side {
  gbps: number[];
  /** Datapath flows carrying c51 <-> c52 IPv4 traffic, in the middle of each run. */
  megaflows: number[];
  /** Controller CPU seconds during this side's runs and during the other side's runs. */
  cpuOwn: number;
  cpuOther: number;
  seconds: number;
  misses: number;
  packets: number;
  openflowFlows: number;
}

async function build(kind: Kind): Promise<Lab> {
  const tmp = tmpDir(`ovnts-bench-iperf-${kind}`);
  let dbs: LabDatabases | undefined;
  let lab: LabResult | undefined;
  const stop = async (): Promise<void> => {
    await lab?.stop().catch((e: unknown) => process.stderr.write(`lab teardown (${kind}): ${String(e)}\n`));
    await dbs?.stop();
    tmp.cleanup();
  };
  try {
    dbs = await startOvnDatabases(tmp.path, 'real');
    lab = await runSeedLab({
      dbs,
      northd: 'real',
      controller: kind === 'real' ? 'real' : startOvntsController,
      ...(VERBOSE ? { log: (l: string) => process.stderr.write(`${kind}: ${l}\n`) } : {}),
    });
    const host = (n: string): LabResult['hosts'][number] => lab!.hosts.find((h) => h.name === n)!;
    const c51 = host('c51');
    const c52 = host('c52');
    if (c51.address === undefined || c52.address === undefined)
      throw new Error(`${kind}: no DHCP lease in c51/c52: ${c51.dhcpError ?? ''} ${c52.dhcpError ?? ''}\n${lab.logs(20)}`);
    if (!c51.pings.find((p) => p.target === 'c52')?.ok) throw new Error(`${kind}: c51 cannot ping c52\n${lab.logs(20)}`);
    const dest = c52.address.split('/')[0]!;
    const cdir = join(lab.dir, 'controller');
    const pidFile = readdirSync(cdir).find((n) => n.endsWith('controller.pid'));
    if (pidFile === undefined) throw new Error(`${kind}: no controller pid file in ${cdir}`);
    const controllerPid = Number(readFileSync(join(cdir, pidFile), 'utf8').trim());
    const server = await spawnDaemon('ip', ['netns', 'exec', c52.netns, 'iperf3', '-s', '-B', dest], {
      name: `iperf3 -s (${kind})`,
      readyWhen: async () => (await nsRun(c52.netns, 'ss', ['-Hltn', 'sport = :5201'])).stdout.trim() !== '',
    });
    return {
      kind,
      lab,
      dbs,
      server,
      dest,
      c51: c51.netns,
      src: c51.address.split('/')[0]!,
      controllerPid,
      stop: async () => {
        await server.stop();
        await stop();
      },
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** `lookups: hit:H missed:M lost:L` of the one netdev datapath (ovs-dpctl(8) show). */
async function lookups(lab: LabResult): Promise<{ hit: number; missed: number }> {
  const out = await lab.ovs.appctl('dpctl/show');
  const m = /hit:(\d+) missed:(\d+)/.exec(out);
  return { hit: Number(m?.[1] ?? 0), missed: Number(m?.[2] ?? 0) };
}

/** utime + stime of a process in seconds (proc(5) /proc/PID/stat fields 14 and 15). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function iperf(l: Lab, side: Side, other: { lab: Lab; side: Side } | undefined): Promise<void> {
  const before = await lookups(l.lab);
  const cpu0 = cpuSeconds(l.controllerPid);
  const otherCpu0 = other === undefined ? 0 : cpuSeconds(other.lab.controllerPid);
  const t0 = performance.now();
  const client = nsRun(l.c51, 'iperf3', ['-c', l.dest, '-t', String(SECONDS), '-J'], { timeoutMs: (SECONDS + 30) * 1000 });
  // Megaflows while the transfer runs.
  await new Promise((r) => setTimeout(r, (SECONDS * 1000) / 2));
  const dp = await l.lab.ovs.appctl('dpctl/dump-flows');
  const between = (a: string, b: string): string => `ipv4(src=${a},dst=${b},`;
  side.megaflows.push(dp.split('\n').filter((x) => x.includes(between(l.src, l.dest)) || x.includes(between(l.dest, l.src))).length);
  const r = await client;
  side.seconds += (performance.now() - t0) / 1000;
  side.cpuOwn += cpuSeconds(l.controllerPid) - cpu0;
  if (other !== undefined) other.side.cpuOther += cpuSeconds(other.lab.controllerPid) - otherCpu0;
  const after = await lookups(l.lab);
  side.misses += after.missed - before.missed;
  side.packets += after.hit + after.missed - before.hit - before.missed;
  let bps: number | undefined;
  try {
    bps = (JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second;
  } catch {
    throw new Error(`iperf3 (${l.kind}) exited ${r.code}: ${r.stderr.trim() || r.stdout.slice(0, 400)}`);
  }
  side.gbps.push(bps / 1e9);
  if (VERBOSE)
    process.stderr.write(
      `${l.kind}: ${(bps / 1e9).toFixed(2)} Gbit/s, ${side.megaflows.at(-1)} megaflows, ${after.missed - before.missed} misses\n`,
    );
  if (DUMP !== undefined) {
    mkdirSync(DUMP, { recursive: true });
    writeFileSync(join(DUMP, `${l.kind}-dpctl-flows.txt`), dp);
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const labs: Lab[] = [];
try {
  for (const kind of ['real', 'ovnts'] as Kind[]) labs.push(await build(kind));
  const sides = new Map<Kind, Side>(
    labs.map((l) => [l.kind, { gbps: [], megaflows: [], cpuOwn: 0, cpuOther: 0, seconds: 0, misses: 0, packets: 0, openflowFlows: 0 }]),
  );
  for (let rep = 0; rep < REPS; rep++) {
    for (const l of labs) {
      const o = labs.find((x) => x !== l);
      await iperf(l, sides.get(l.kind)!, o === undefined ? undefined : { lab: o, side: sides.get(o.kind)! });
    }
  }
  for (const l of labs) {
    const flows = await l.lab.ovs.ofctl('-O', 'OpenFlow15', 'dump-flows', 'br-int');
    sides.get(l.kind)!.openflowFlows = flows.split('\n').filter((x) => x.includes('actions=')).length;
    if (DUMP !== undefined) writeFileSync(join(DUMP, `${l.kind}-ofctl-flows.txt`), flows);
  }
  const lines = [`iperf3 TCP c51 -> c52 (seed lab, VLAN 51/52 under vm5, one switch): ${REPS} x ${SECONDS} s, alternating`];
  for (const [k, s] of sides) {
    lines.push(
      `${k.padEnd(6)} median=${median(s.gbps).toFixed(2)} Gbit/s  runs=${s.gbps.map((g) => g.toFixed(2)).join(',')}` +
        `  c51<->c52 megaflows=${median(s.megaflows)} upcalls=${s.misses} (${((1e6 * s.misses) / Math.max(1, s.packets)).toFixed(1)} per M packets)` +
        `  openflow flows=${s.openflowFlows}  controller CPU=${((100 * s.cpuOwn) / s.seconds).toFixed(1)}% (${((100 * s.cpuOther) / s.seconds).toFixed(1)}% while the other side ran)`,
    );
  }
  const real = median(sides.get('real')!.gbps);
  const ovnts = median(sides.get('ovnts')!.gbps);
  lines.push(`ratio ovnts/real: ${(ovnts / real).toFixed(2)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  process.stdout.write(
    `${JSON.stringify({
      summary: [
        { metric: 'iperf3 c51->c52 TCP', unit: 'Gbit/s', real, ovnts },
        {
          metric: 'iperf3 c51<->c52 megaflows',
          unit: '',
          real: median(sides.get('real')!.megaflows),
          ovnts: median(sides.get('ovnts')!.megaflows),
        },
      ],
    })}\n`,
  );
} finally {
  for (const l of labs) await l.stop();
  await cleanupAll();
}
