/**
 * bench:controller — the chassis controller benches, one after another, each
 * as its own process (`node dist/bench/controller-<name>.js`; each still runs
 * alone and cleans up after itself), then one table: metric, ovnts, real,
 * ovnts/real.
 *
 * A bench's numbers come from its last stdout line when that is JSON
 * `{"summary":[{"metric","unit","real","ovnts"}]}`; otherwise from its rows
 * that start with `real` or `ovnts`, as `key=<number>[ms|%|/s]` pairs (and
 * `<number>/port`). A bench that fails is reported and the others still run;
 * the exit status is then 1.
 *
 * The benches read their own BENCH_* variables (BENCH_PORTS is shared by
 * first-ping, claim and dhcp). BENCH_ONLY=first-ping,dhcp runs a subset.
 * Not a test (timings); run: `npm run bench:controller`.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCHES = ['first-ping', 'claim', 'dhcp', 'iperf'] as const;
const ONLY = process.env['BENCH_ONLY']?.split(',').map((s) => s.trim());
const HERE = fileURLToPath(new URL('.', import.meta.url));

interface Row {
  readonly metric: string;
  readonly unit: string;
  readonly real: number | undefined;
  readonly ovnts: number | undefined;
}

/** Runs one bench, echoing its output; resolves to its stdout and exit status. */
function runBench(name: string): Promise<{ stdout: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(HERE, `controller-${name}.js`)], { stdio: ['ignore', 'pipe', 'inherit'] });
    // Ctrl-C or a kill reaches the bench too, so its own cleanup runs.
    const forward = (sig: NodeJS.Signals): void => void child.kill(sig);
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    for (const s of signals) process.on(s, forward);
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      process.stdout.write(b);
    });
    child.once('error', reject);
    child.once('close', (code) => {
      for (const s of signals) process.off(s, forward);
      resolve({ stdout, code });
    });
  });
}

function fromJson(name: string, stdout: string): Row[] | undefined {
  const last = stdout.trim().split('\n').pop() ?? '';
  if (!last.startsWith('{')) return undefined;
  try {
    const j = JSON.parse(last) as { summary?: { metric: string; unit?: string; real?: number; ovnts?: number }[] };
    return j.summary?.map((r) => ({ metric: `${name}: ${r.metric}`, unit: r.unit ?? '', real: r.real, ovnts: r.ovnts }));
  } catch {
    return undefined;
  }
}

/** `real …`/`ovnts …` rows with `key=<number><unit>` pairs, merged by key. */
function fromRows(name: string, stdout: string): Row[] {
  const values = new Map<string, { unit: string; real?: number; ovnts?: number }>();
  for (const line of stdout.split('\n')) {
    const m = /^(real|ovnts)\b(.*)$/.exec(line.trim());
    if (m === null) continue;
    const kind = m[1] as 'real' | 'ovnts';
    const pairs: [string, number, string][] = [];
    for (const p of m[2]!.matchAll(/([A-Za-z][\w/-]*)=([\d.]+)(ms|%|\/s)?/g)) pairs.push([p[1]!, Number(p[2]), p[3] ?? '']);
    for (const p of m[2]!.matchAll(/([\d.]+)\/port/g)) pairs.push(['flows/port', Number(p[1]), '']);
    for (const [key, value, unit] of pairs) {
      if (key === 'ports') continue;
      const v = values.get(key) ?? { unit };
      v[kind] = value;
      values.set(key, v);
    }
  }
  return [...values].map(([key, v]) => ({ metric: `${name}: ${key}`, unit: v.unit, real: v.real, ovnts: v.ovnts }));
}

const fmt = (x: number | undefined): string =>
  x === undefined || !Number.isFinite(x) ? '-' : Number.isInteger(x) || x >= 100 ? x.toFixed(0) : x.toFixed(2);

const rows: Row[] = [];
const failed: string[] = [];
for (const name of BENCHES.filter((b) => ONLY === undefined || ONLY.includes(b))) {
  process.stdout.write(`\n=== controller-${name}\n`);
  const t0 = performance.now();
  const { stdout, code } = await runBench(name);
  process.stdout.write(`=== controller-${name}: ${((performance.now() - t0) / 1000).toFixed(0)} s, exit ${code}\n`);
  if (code !== 0) failed.push(`${name} (exit ${code})`);
  rows.push(...(fromJson(name, stdout) ?? fromRows(name, stdout)));
}

const table = [
  ['metric', 'ovnts', 'real', 'ovnts/real'],
  ...rows.map((r) => [
    `${r.metric}${r.unit === '' ? '' : ` (${r.unit})`}`,
    fmt(r.ovnts),
    fmt(r.real),
    r.ovnts !== undefined && r.real !== undefined && r.real !== 0 ? (r.ovnts / r.real).toFixed(2) : '-',
  ]),
];
const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
process.stdout.write(
  `\n${table.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n')}\n`,
);
if (failed.length > 0) {
  process.stdout.write(`failed: ${failed.join(', ')}\n`);
  process.exitCode = 1;
}
