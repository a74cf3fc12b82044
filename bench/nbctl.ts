/**
 * bench:nbctl — `ovnts nbctl` against the real `ovn-nbctl`, each on its own
 * fresh real ovsdb-server:
 *   batch:   one invocation creating 1000 switches x 10 ports (every fifth port
 *            nested under the switch's first port with a tag; each port with a
 *            MAC and an IP), all commands joined with `--`;
 *   singles: 200 single-port adds, one invocation each.
 * Prints a table with the wall times and the ovnts/real ratio.
 */
import { execFile } from 'node:child_process';
import { startServer } from '../test/helpers/ovsdb-servers.js';
import { OVNTS } from '../test/helpers/ovsdb-servers.js';

const SWITCHES = Number(process.env['BENCH_SWITCHES'] ?? 1000);
const PORTS = 10;
const SINGLES = Number(process.env['BENCH_SINGLES'] ?? 200);

type Tool = 'real' | 'ovnts';

function run(tool: Tool, remote: string, args: string[]): Promise<void> {
  const [cmd, pre] = tool === 'real' ? ['ovn-nbctl', []] : [process.execPath, [OVNTS, 'nbctl']];
  return new Promise((resolve, reject) => {
    execFile(cmd, [...pre, `--db=${remote}`, '--timeout=120', ...args], { maxBuffer: 64 << 20 }, (err, _out, stderr) => {
      if (err !== null) reject(new Error(`${tool} nbctl failed: ${stderr.slice(0, 500)}`));
      else resolve();
    });
  });
}

function mac(n: number): string {
  const b = [0x0a, (n >> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255, 1];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function batchArgs(): string[] {
  const args: string[] = [];
  let n = 0;
  for (let s = 0; s < SWITCHES; s++) {
    const sw = `sw${s}`;
    if (args.length > 0) args.push('--');
    args.push('ls-add', sw);
    for (let p = 0; p < PORTS; p++) {
      const port = `${sw}-p${p}`;
      n++;
      args.push('--', 'lsp-add', sw, port);
      if (p > 0 && p % 5 === 0) args.push(`${sw}-p0`, String(p));
      args.push('--', 'lsp-set-addresses', port, `${mac(n)} 10.${(s >> 8) & 255}.${s & 255}.${p + 2}`);
    }
  }
  return args;
}

async function measure(tool: Tool): Promise<{ batch: number; singles: number }> {
  const server = await startServer('real');
  try {
    const t0 = performance.now();
    await run(tool, server.remote, batchArgs());
    const batch = performance.now() - t0;
    const t1 = performance.now();
    for (let i = 0; i < SINGLES; i++) await run(tool, server.remote, ['lsp-add', 'sw0', `single-${i}`]);
    const singles = performance.now() - t1;
    return { batch, singles };
  } finally {
    await server.cleanup();
  }
}

async function main(): Promise<void> {
  const real = await measure('real');
  const ovnts = await measure('ovnts');
  const rows: Array<[string, number, number]> = [
    [`batch: ${SWITCHES} switches x ${PORTS} ports, one invocation`, real.batch, ovnts.batch],
    [`singles: ${SINGLES} lsp-add invocations`, real.singles, ovnts.singles],
  ];
  const w = Math.max(...rows.map((r) => r[0].length), 9);
  console.log(`${'workload'.padEnd(w)}  ${'ovn-nbctl'.padStart(11)}  ${'ovnts nbctl'.padStart(11)}  ${'ovnts/real'.padStart(10)}`);
  for (const [name, r, o] of rows) {
    console.log(
      `${name.padEnd(w)}  ${(r / 1000).toFixed(2).padStart(10)}s  ${(o / 1000).toFixed(2).padStart(10)}s  ${(o / r).toFixed(2).padStart(10)}`,
    );
  }
  console.log('(each tool against its own fresh real ovsdb-server; wall-clock times)');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
