/**
 * bench:northd — ovnts northd against the real ovn-northd on the same work, each
 * with its own fresh pair of real ovsdb-servers (so only northd differs):
 *   full:   one NB transaction creating a router and SWITCHES switches × 10 ports
 *           (NESTED of them nested under their switch's first port with tag_request
 *           0, every port with a MAC and an IP; every switch on the router); the
 *           time from that commit until the SB is complete (`--wait=sb sync`);
 *   single: one more `ovn-nbctl --wait=sb lsp-add` (median of 10);
 *   logical flows in the SB and per port, northd's resident memory.
 * BENCH_SWITCHES / BENCH_NESTED change the size; BENCH_VERBOSE=1 prints northd's slow passes;
 * BENCH_OVNTS_DB=1 puts the ovnts side on ovnts ovsdb-servers (the `ovnts up` deployment) instead.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startOvnDatabases, type LabDatabases } from '../test/helpers/ovn-lab.js';
import { run, spawnDaemon, tmpDir, type Daemon } from '../test/helpers/proc.js';
import { OVNTS } from '../test/helpers/ovsdb-servers.js';

const SWITCHES = Number(process.env['BENCH_SWITCHES'] ?? 1000);
const PORTS = 10;
const NESTED = Number(process.env['BENCH_NESTED'] ?? 200);
/** BENCH_PROF=DIR: a CPU profile of ovnts northd into DIR. BENCH_ONLY=ovnts|real: one side only. */
const PROF = process.env['BENCH_PROF'];
const ONLY = process.env['BENCH_ONLY'];

type Kind = 'real' | 'ovnts';

function nbctl(db: string, args: string[], timeoutS = 600): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ovn-nbctl', [`--db=${db}`, `--timeout=${timeoutS}`, ...args], { maxBuffer: 256 << 20 }, (err, out, stderr) => {
      if (err !== null) reject(new Error(`ovn-nbctl ${args.slice(0, 3).join(' ')}: ${stderr.slice(0, 400)}`));
      else resolve(out);
    });
  });
}

const hex = (n: number): string => n.toString(16).padStart(2, '0');

function batch(): string[] {
  const a: string[] = ['lr-add', 'r0'];
  let nested = 0;
  for (let s = 0; s < SWITCHES; s++) {
    const sw = `sw${s}`;
    const net = `10.${(s >> 8) & 255}.${s & 255}`;
    a.push('--', 'ls-add', sw);
    a.push('--', 'lrp-add', 'r0', `r0-${sw}`, `0a:00:${hex((s >> 8) & 255)}:${hex(s & 255)}:00:01`, `${net}.1/24`);
    a.push('--', 'lsp-add', sw, `${sw}-r0`, '--', 'lsp-set-type', `${sw}-r0`, 'router', '--', 'lsp-set-addresses', `${sw}-r0`, 'router');
    a.push('--', 'lsp-set-options', `${sw}-r0`, `router-port=r0-${sw}`);
    for (let p = 0; p < PORTS; p++) {
      const port = `${sw}-p${p}`;
      a.push('--', 'lsp-add', sw, port);
      if (p === PORTS - 1 && nested < NESTED) {
        a.push(`${sw}-p0`, '0');
        nested++;
      }
      a.push('--', 'lsp-set-addresses', port, `0a:01:${hex((s >> 8) & 255)}:${hex(s & 255)}:00:${hex(p + 2)} ${net}.${p + 2}`);
    }
  }
  return a;
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) / 100;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? NaN : Number(m[1]) / 1024;
}

async function startNorthd(kind: Kind, dbs: LabDatabases, dir: string): Promise<Daemon> {
  const ctl = join(dir, 'northd.ctl');
  const common = [`--ovnnb-db=${dbs.nbRemote}`, `--ovnsb-db=${dbs.sbRemote}`, `--unixctl=${ctl}`, `--log-file=${join(dir, 'northd.log')}`];
  const ready = async (): Promise<boolean> =>
    /Status: active/.test((await run('ovn-appctl', ['-t', ctl, 'status'], { timeoutMs: 5000 })).stdout);
  return kind === 'real'
    ? spawnDaemon('ovn-northd', [...common, '--no-chdir', '-vconsole:off'], {
        name: 'ovn-northd',
        env: { OVN_RUNDIR: dir, OVN_LOGDIR: dir },
        readyWhen: ready,
      })
    : spawnDaemon(process.execPath, [...(PROF === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROF}`]), OVNTS, 'northd', ...common], {
        name: 'ovnts northd',
        readyWhen: ready,
      });
}

interface Result {
  full: number;
  single: number;
  flows: number;
  rss: number;
  /** CPU seconds the SB ovsdb-server spent between the NB commit and a complete SB. */
  sbCpu: number;
  /** One `ovn-nbctl --no-wait lsp-add` on the same NB (median of 5): the part of `single` northd has no say in. */
  nbctlAlone: number;
}

async function measure(kind: Kind): Promise<Result> {
  const dir = tmpDir(`ovnts-bench-northd-${kind}`);
  const dbs = await startOvnDatabases(dir.path, kind === 'ovnts' && process.env['BENCH_OVNTS_DB'] !== undefined ? 'ovnts' : 'real');
  const d = await startNorthd(kind, dbs, dir.path);
  try {
    const db = dbs.nbRemote;
    const sbPid = Number(readFileSync(join(dir.path, 'sb.pid'), 'utf8'));
    const cpu0 = cpuSeconds(sbPid);
    await nbctl(db, ['--no-wait', ...batch()]);
    const t0 = performance.now();
    await nbctl(db, ['--wait=sb', 'sync']);
    const full = performance.now() - t0;
    const sbCpu = cpuSeconds(sbPid) - cpu0;
    const singles: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      await nbctl(db, [
        '--wait=sb',
        'lsp-add',
        'sw1',
        `extra${i}`,
        '--',
        'lsp-set-addresses',
        `extra${i}`,
        `0a:02:00:00:00:${hex(i + 1)} 10.0.1.${100 + i}`,
      ]);
      singles.push(performance.now() - t);
    }
    singles.sort((a, b) => a - b);
    // The same command without waiting: what ovn-nbctl itself costs on this NB.
    const bare: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await nbctl(db, ['--no-wait', 'lsp-add', 'sw2', `bare${i}`]);
      bare.push(performance.now() - t);
    }
    bare.sort((a, b) => a - b);
    const flows = Number(
      (await run('ovn-sbctl', [`--db=${dbs.sbRemote}`, '--timeout=120', 'list', 'Logical_Flow'], { timeoutMs: 120_000 })).stdout
        .split('\n')
        .filter((l) => l.startsWith('_uuid')).length,
    );
    return { full, single: singles[5] as number, flows, rss: rssMiB(d.process.pid as number), sbCpu, nbctlAlone: bare[2] as number };
  } finally {
    await d.stop(5000);
    if (process.env['BENCH_VERBOSE'] !== undefined) {
      try {
        process.stderr.write(
          readFileSync(join(dir.path, 'northd.log'), 'utf8')
            .split('\n')
            .filter((l) => /long pass|poll interval/.test(l))
            .join('\n') + '\n',
        );
      } catch {
        // no log
      }
    }
    await dbs.stop();
    dir.cleanup();
  }
}

async function main(): Promise<void> {
  const ports = SWITCHES * (PORTS + 1);
  console.log(
    `bench:northd — ${SWITCHES} switches x ${PORTS} ports (+1 router port each), ${NESTED} nested, one router; real ovsdb-servers for both`,
  );
  const skipped: Result = { full: NaN, single: NaN, flows: NaN, rss: NaN, sbCpu: NaN, nbctlAlone: NaN };
  const real = ONLY === 'ovnts' ? skipped : await measure('real');
  const ovnts = ONLY === 'real' ? skipped : await measure('ovnts');
  const rows: Array<[string, string, string, string]> = [
    [
      'NB commit → SB complete',
      `${(real.full / 1000).toFixed(2)} s`,
      `${(ovnts.full / 1000).toFixed(2)} s`,
      (ovnts.full / real.full).toFixed(2),
    ],
    ['  of which SB ovsdb-server CPU', `${real.sbCpu.toFixed(2)} s`, `${ovnts.sbCpu.toFixed(2)} s`, (ovnts.sbCpu / real.sbCpu).toFixed(2)],
    [
      'one lsp-add --wait=sb (median of 10)',
      `${real.single.toFixed(0)} ms`,
      `${ovnts.single.toFixed(0)} ms`,
      (ovnts.single / real.single).toFixed(2),
    ],
    ['  the same without --wait (ovn-nbctl alone)', `${real.nbctlAlone.toFixed(0)} ms`, `${ovnts.nbctlAlone.toFixed(0)} ms`, ''],
    ['Logical_Flow rows', String(real.flows), String(ovnts.flows), (ovnts.flows / real.flows).toFixed(2)],
    ['Logical_Flow rows per port', (real.flows / ports).toFixed(2), (ovnts.flows / ports).toFixed(2), ''],
    ['northd RSS', `${real.rss.toFixed(0)} MiB`, `${ovnts.rss.toFixed(0)} MiB`, (ovnts.rss / real.rss).toFixed(2)],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`${'measure'.padEnd(w)}  ${'ovn-northd'.padStart(12)}  ${'ovnts northd'.padStart(12)}  ${'ovnts/real'.padStart(10)}`);
  for (const [n, r, o, x] of rows) console.log(`${n.padEnd(w)}  ${r.padStart(12)}  ${o.padStart(12)}  ${x.padStart(10)}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
