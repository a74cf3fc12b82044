/**
 * OVSDB server benchmark: ovnts against the real ovsdb-server, in one run.
 *
 *   npm run bench:ovsdb [-- --quick] [--only=ovnts|real] [--workloads=fanout,throughput,mixed,memory]
 *                       [--modes=plain,durable] [--cpu-prof=DIR]   (ovnts server under node --cpu-prof)
 *                       [--syscalls=perf|strace]   (system calls per transaction of the mixed workload)
 *                       [--floor]   (bench/floor-server.ts, Node I/O without a database, in ovnts's column)
 *                       [--warm]   (each server first runs the mixed workload once, untimed: a server
 *                                   that has been up a while, JIT-compiled, rather than a fresh one)
 *
 * Each server gets a fresh OVN_Northbound database in its own temp dir and
 * runs alone (one after the other, so they do not share the cores). The same
 * workloads drive both, through bench/jsonrpc-client.ts:
 *
 *  1. monitor fan-out: 50 `monitor_cond` clients on Logical_Switch, one writer
 *     commits updates one at a time; latency = transact sent -> all 50 got
 *     their `update2`.
 *  2. throughput: 4 closed-loop clients, 50% Logical_Switch inserts and 50%
 *     updates of their own switches by _uuid.
 *  3. mixed (issue 14's workload): 4 closed-loop writers x 2,500 one-row
 *     inserts while 20 `monitor_cond` clients watch; commit latency and
 *     delivery latency (transact sent -> all 20 monitors got the row).
 *  4. memory: RSS of a fresh server idle and at 10k, 100k and 1M
 *     Logical_Switch rows (inserted 1,000 per transaction).
 *
 * Also: server RSS (idle, and after the workloads) and the database file
 * size. Server CPU time (user+sys from /proc/PID/stat) per transaction tells
 * CPU cost apart from time spent waiting on fsync.
 *
 * Both servers fsync only transactions with a durable commit, so each write
 * workload runs twice: plain, and with `{"op":"commit","durable":true}`.
 *
 * Prints a table; asserts nothing about timing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { RpcClient, waitForSocket } from './jsonrpc-client.js';
import { attachCounter, printSyscallTable, type SyscallCounter, type SyscallCounts } from './syscall-count.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const SCHEMA = join(ROOT, 'schemas/ovn-nb.ovsschema');
const OVNTS = join(ROOT, 'bin/ovnts');
const FLOOR_SERVER = join(ROOT, 'dist/bench/floor-server.js');
const DB = 'OVN_Northbound';

const READY_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

interface Options {
  quick: boolean;
  only: ServerKind | undefined;
  /** Which workloads run (default both); for profiling one of them. */
  workloads: ReadonlySet<Workload>;
  /** Which commit modes the write workloads run (default both). */
  modes: readonly Mode[];
  cpuProfDir: string | undefined;
  /** Count each server's system calls during the mixed workload with this tool, and print them per transaction. */
  syscalls: SyscallCounter | undefined;
  /** Run bench/floor-server.ts (Node's sockets and JSON-RPC, no database) where ovnts would run. */
  floor: boolean;
  /** Before the measured mixed run, run it once untimed on the same server. */
  warm: boolean;
}

type ServerKind = 'ovnts' | 'real';
type Workload = 'fanout' | 'throughput' | 'mixed' | 'memory';
const WORKLOADS: readonly Workload[] = ['fanout', 'throughput', 'mixed', 'memory'];
/** Row counts at which the memory workload reads the server's RSS. */
const MEMORY_STEPS: readonly number[] = [10_000, 100_000, 1_000_000];
type Mode = 'plain' | 'durable';
const MODES: readonly Mode[] = ['plain', 'durable'];

interface Counts {
  throughputClients: number;
  throughputPerClient: number;
  monitors: number;
  fanoutUpdates: number;
  mixedWriters: number;
  mixedPerWriter: number;
  mixedMonitors: number;
  memorySteps: readonly number[];
}

function countsFor(quick: boolean): Counts {
  const scale = quick ? 10 : 1;
  return {
    throughputClients: 4,
    throughputPerClient: 5000 / scale,
    monitors: 50,
    fanoutUpdates: 1000 / scale,
    mixedWriters: 4,
    mixedPerWriter: 2500 / scale,
    mixedMonitors: 20,
    memorySteps: quick ? MEMORY_STEPS.slice(0, 2) : MEMORY_STEPS,
  };
}

/** One row of the result table, per server. */
interface Metric {
  name: string;
  unit: string;
  better: 'higher' | 'lower';
}

type Results = Map<string, number>;

// ---------------------------------------------------------------------------
// Child processes and temp dirs, cleaned up however the bench ends.

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

function cleanupNow(): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
  children.clear();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

process.on('exit', cleanupNow);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    process.stderr.write(`bench: ${sig}, stopping servers\n`);
    cleanupNow();
    process.exit(130);
  });
}

// ---------------------------------------------------------------------------
// Servers.

interface Server {
  kind: ServerKind;
  dir: string;
  sock: string;
  dbFile: string;
  child: ChildProcess;
  exitReason: () => string | undefined;
}

function runTool(label: string, cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: READY_TIMEOUT_MS });
  if (r.error !== undefined) throw new Error(`${label}: ${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${label}: ${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  }
}

async function startServer(kind: ServerKind, opts: Options): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), `ovnts-bench-${kind}-`));
  tempDirs.add(dir);
  const dbFile = join(dir, 'nb.db');
  const sock = join(dir, 'db.sock');
  const serverArgs = [`--remote=punix:${sock}`, `--unixctl=${join(dir, 'ctl')}`, '--no-chdir', `--log-file=${join(dir, 'log')}`, dbFile];
  let cmd: string;
  let args: string[];
  if (kind === 'real') {
    runTool(kind, 'ovsdb-tool', ['create', dbFile, SCHEMA]);
    cmd = 'ovsdb-server';
    args = serverArgs;
  } else {
    runTool(kind, OVNTS, ['ovsdb-tool', 'create', dbFile, SCHEMA]);
    if (opts.floor) {
      cmd = process.execPath;
      args = [FLOOR_SERVER, ...serverArgs];
    } else if (opts.cpuProfDir !== undefined) {
      cmd = process.execPath;
      args = ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`, OVNTS, 'ovsdb-server', ...serverArgs];
    } else {
      cmd = OVNTS;
      args = ['ovsdb-server', ...serverArgs];
    }
  }
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  let spawnError: Error | undefined;
  child.on('error', (e) => {
    spawnError = e;
  });
  const exitReason = (): string | undefined => {
    if (spawnError !== undefined) return spawnError.message;
    if (child.exitCode === null && child.signalCode === null) return undefined;
    return `exit ${child.exitCode ?? child.signalCode}${stderr === '' ? '' : `: ${stderr.trim()}`}`;
  };
  await waitForSocket(sock, `${kind} ovsdb-server`, READY_TIMEOUT_MS, exitReason);
  return { kind, dir, sock, dbFile, child, exitReason };
}

/** Clock ticks per second for /proc/PID/stat (sysconf(_SC_CLK_TCK)). */
const CLK_TCK = ((): number => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** User plus system CPU seconds the server process has used so far. */
function readCpuSeconds(s: Server): number {
  const { user, system } = readCpuSplit(s);
  return user + system;
}

/** User and system CPU seconds the server process has used so far, apart. */
function readCpuSplit(s: Server): { user: number; system: number } {
  const pid = s.child.pid;
  if (pid === undefined) throw new Error(`${s.kind}: server has no pid`);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "(comm)": state is field 3, utime field 14, stime field 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / CLK_TCK, system: Number(fields[12]) / CLK_TCK };
}

/** VmRSS and VmHWM of the server process, in KiB. */
function readMemory(s: Server): { rss: number; hwm: number } {
  const pid = s.child.pid;
  if (pid === undefined) throw new Error(`${s.kind}: server has no pid`);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    if (m === null) throw new Error(`${s.kind}: no ${name} in /proc/${pid}/status`);
    return Number(m[1]);
  };
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

async function stopServer(s: Server): Promise<void> {
  const child = s.child;
  if (s.exitReason() !== undefined) {
    children.delete(child);
    return;
  }
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((r) => {
      timer = setTimeout(() => r(true), STOP_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    process.stderr.write(`bench: ${s.kind} ovsdb-server ignored SIGTERM for ${STOP_TIMEOUT_MS} ms; killing it\n`);
    child.kill('SIGKILL');
    await exited;
  }
  children.delete(child);
}

// ---------------------------------------------------------------------------
// Workload helpers.

type Op = Record<string, unknown>;
const DURABLE_COMMIT: Op = { op: 'commit', durable: true };

/** Runs a transaction; throws if any operation failed. */
async function transact(c: RpcClient, ops: Op[], mode: Mode): Promise<unknown[]> {
  const params = mode === 'durable' ? [DB, ...ops, DURABLE_COMMIT] : [DB, ...ops];
  const result = await c.request('transact', params, REQUEST_TIMEOUT_MS);
  if (!Array.isArray(result)) throw new Error(`${c.label}: transact result is not an array`);
  for (const r of result) {
    if (r !== null && typeof r === 'object' && 'error' in r) {
      throw new Error(`${c.label}: transaction failed: ${JSON.stringify(result)}`);
    }
  }
  if (result.length < ops.length) throw new Error(`${c.label}: short transact result: ${JSON.stringify(result)}`);
  return result as unknown[];
}

function insertedUuid(c: RpcClient, result: unknown[]): string {
  const r = result[0] as { uuid?: unknown } | undefined;
  const u = r?.uuid;
  if (!Array.isArray(u) || u[0] !== 'uuid' || typeof u[1] !== 'string') {
    throw new Error(`${c.label}: insert returned no uuid: ${JSON.stringify(result[0])}`);
  }
  return u[1];
}

/** Checks that an update matched exactly its one row (a bench bug otherwise). */
function checkUpdatedOne(c: RpcClient, result: unknown[]): void {
  const r = result[0] as { count?: unknown } | undefined;
  if (r?.count !== 1) throw new Error(`${c.label}: update matched ${JSON.stringify(r?.count)} rows, not 1`);
}

function insertSwitch(name: string): Op {
  return {
    op: 'insert',
    table: 'Logical_Switch',
    row: { name, external_ids: ['map', [['k', 'v']]] },
  };
}

function updateOtherConfig(uuid: string, key: string, value: string): Op {
  return {
    op: 'update',
    table: 'Logical_Switch',
    where: [['_uuid', '==', ['uuid', uuid]]],
    row: { other_config: ['map', [[key, value]]] },
  };
}

/** Nearest-rank percentile of already sorted samples. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

/** A small deterministic PRNG (mulberry32), so both servers see the same picks. */
function makeRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function connectClients(s: Server, n: number, label: string): Promise<RpcClient[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => RpcClient.connect(s.sock, `${s.kind} ${label} client ${i}`, READY_TIMEOUT_MS)));
}

/** Fails fast with the server's own words if it died mid-workload. */
function checkAlive(s: Server, workload: string): void {
  const why = s.exitReason();
  if (why !== undefined) throw new Error(`${s.kind} ${workload}: server died: ${why}`);
}

// ---------------------------------------------------------------------------
// Workload 1: closed-loop throughput.

async function runThroughput(s: Server, mode: Mode, counts: Counts, results: Results): Promise<void> {
  const label = `throughput (${mode})`;
  const clients = await connectClients(s, counts.throughputClients, label);
  // Client numbers differ per mode so names stay unique in one database.
  const base = mode === 'plain' ? 0 : counts.throughputClients;
  const latencies: number[] = [];
  const cpu0 = readCpuSeconds(s);
  const t0 = performance.now();
  try {
    await Promise.all(
      clients.map(async (c, k) => {
        const client = base + k;
        const random = makeRandom(client + 1);
        const uuids: string[] = [];
        for (let i = 0; i < counts.throughputPerClient; i++) {
          const insert = i % 2 === 0 || uuids.length === 0;
          const op = insert
            ? insertSwitch(`ls-${client}-${i}`)
            : updateOtherConfig(uuids[Math.floor(random() * uuids.length)] as string, 'n', String(i));
          const start = performance.now();
          const result = await transact(c, [op], mode);
          latencies.push(performance.now() - start);
          if (insert) uuids.push(insertedUuid(c, result));
          else checkUpdatedOne(c, result);
        }
      }),
    );
  } catch (e) {
    checkAlive(s, label);
    throw e;
  } finally {
    for (const c of clients) c.close();
  }
  const elapsed = (performance.now() - t0) / 1000;
  results.set(`tput.${mode}.cpu`, ((readCpuSeconds(s) - cpu0) * 1e6) / latencies.length);
  latencies.sort((a, b) => a - b);
  results.set(`tput.${mode}.tps`, latencies.length / elapsed);
  results.set(`tput.${mode}.p50`, percentile(latencies, 50));
  results.set(`tput.${mode}.p99`, percentile(latencies, 99));
}

// ---------------------------------------------------------------------------
// Workload 2: monitor fan-out.

/** The `seq` value an `update2` carries for row `uuid`, if any. */
function seqIn(params: unknown[], uuid: string): number | undefined {
  const tables = params[1] as Record<string, Record<string, Record<string, unknown>>> | undefined;
  const row = tables?.['Logical_Switch']?.[uuid];
  if (row === undefined) return undefined;
  const fields = (row['modify'] ?? row['insert'] ?? row['initial']) as Record<string, unknown> | undefined;
  const oc = fields?.['other_config'];
  if (!Array.isArray(oc) || oc[0] !== 'map' || !Array.isArray(oc[1])) return undefined;
  for (const pair of oc[1] as unknown[]) {
    if (Array.isArray(pair) && pair[0] === 'seq') return Number(pair[1]);
  }
  return undefined;
}

async function runFanout(s: Server, counts: Counts, results: Results): Promise<void> {
  const label = 'fan-out';
  const writer = (await connectClients(s, 1, `${label} writer`))[0] as RpcClient;
  const monitors = await connectClients(s, counts.monitors, `${label} monitor`);
  try {
    const target = insertedUuid(writer, await transact(writer, [insertSwitch('fanout')], 'plain'));

    // Per update: how many monitors have seen it, and who waits for all of them.
    let current = -1;
    let seen = 0;
    let allSeen: (() => void) | undefined;
    for (const m of monitors) {
      let last = -1;
      m.onNotification = (method, params) => {
        if (method !== 'update2') return;
        const seq = seqIn(params, target);
        if (seq === undefined || seq <= last) return;
        last = seq;
        if (seq === current && ++seen === monitors.length) allSeen?.();
      };
    }
    const request = {
      Logical_Switch: [{ columns: ['name', 'external_ids', 'other_config'] }],
    };
    await Promise.all(monitors.map((m, i) => m.request('monitor_cond', [DB, `m${i}`, request], REQUEST_TIMEOUT_MS)));

    let seq = 0;
    for (const mode of MODES) {
      const wl = `${label} (${mode})`;
      const latencies: number[] = [];
      const cpu0 = readCpuSeconds(s);
      const t0 = performance.now();
      for (let i = 0; i < counts.fanoutUpdates; i++) {
        current = ++seq;
        seen = 0;
        let timer: NodeJS.Timeout | undefined;
        const everyone = new Promise<void>((resolve, reject) => {
          allSeen = resolve;
          timer = setTimeout(() => {
            reject(
              new Error(`${s.kind} ${wl}: update ${seq}: only ${seen}/${monitors.length} monitors notified after ${REQUEST_TIMEOUT_MS} ms`),
            );
          }, REQUEST_TIMEOUT_MS);
        });
        const start = performance.now();
        let end = 0;
        const notified = everyone.then(() => {
          end = performance.now();
        });
        try {
          const [result] = await Promise.all([transact(writer, [updateOtherConfig(target, 'seq', String(seq))], mode), notified]);
          checkUpdatedOne(writer, result);
        } catch (e) {
          checkAlive(s, wl);
          throw e;
        } finally {
          clearTimeout(timer);
          allSeen = undefined;
        }
        latencies.push(end - start);
      }
      const total = performance.now() - t0;
      results.set(`fanout.${mode}.cpu`, ((readCpuSeconds(s) - cpu0) * 1e6) / counts.fanoutUpdates);
      latencies.sort((a, b) => a - b);
      results.set(`fanout.${mode}.p50`, percentile(latencies, 50));
      results.set(`fanout.${mode}.p99`, percentile(latencies, 99));
      results.set(`fanout.${mode}.total`, total / 1000);
    }
  } finally {
    writer.close();
    for (const m of monitors) m.close();
  }
}

// ---------------------------------------------------------------------------
// Workload 3: issue 14's mix — closed-loop writers while monitors watch.

/** The names of the Logical_Switch rows an update2/update inserts. */
function insertedNames(params: unknown[]): string[] {
  const tables = params[1] as Record<string, Record<string, Record<string, unknown>>> | undefined;
  const rows = tables?.['Logical_Switch'];
  if (rows === undefined) return [];
  const out: string[] = [];
  for (const row of Object.values(rows)) {
    const fields = (row['insert'] ?? row['new']) as Record<string, unknown> | undefined;
    const name = fields?.['name'];
    if (typeof name === 'string') out.push(name);
  }
  return out;
}

async function runMixed(
  s: Server,
  mode: Mode,
  counts: Counts,
  results: Results,
  counter: SyscallCounter | undefined,
  pass = mode as string,
): Promise<SyscallCounts | undefined> {
  const label = `mixed (${pass})`;
  const writers = await connectClients(s, counts.mixedWriters, `${label} writer`);
  const monitors = await connectClients(s, counts.mixedMonitors, `${label} monitor`);
  // Transaction name -> when it was sent and how many monitors have seen it.
  const sent = new Map<string, { t: number; seen: number }>();
  const delivery: number[] = [];
  const commit: number[] = [];
  try {
    for (const m of monitors) {
      m.onNotification = (method, params) => {
        if (method !== 'update2') return;
        const now = performance.now();
        for (const name of insertedNames(params)) {
          const e = sent.get(name);
          if (e === undefined) continue;
          if (++e.seen === monitors.length) {
            delivery.push(now - e.t);
            sent.delete(name);
          }
        }
      };
    }
    const request = { Logical_Switch: [{ columns: ['name', 'external_ids', 'other_config'] }] };
    await Promise.all(monitors.map((m, i) => m.request('monitor_cond', [DB, `mx${i}`, request], REQUEST_TIMEOUT_MS)));
    const syscalls =
      counter === undefined ? undefined : await attachCounter(counter, s.child.pid ?? 0, join(s.dir, `${counter}-mixed-${mode}.txt`));
    const cpu0 = readCpuSplit(s);
    const t0 = performance.now();
    await Promise.all(
      writers.map(async (c, w) => {
        for (let i = 0; i < counts.mixedPerWriter; i++) {
          const name = `mx-${pass}-${w}-${i}`;
          const start = performance.now();
          sent.set(name, { t: start, seen: 0 });
          insertedUuid(c, await transact(c, [insertSwitch(name)], mode));
          commit.push(performance.now() - start);
        }
      }),
    );
    // Every update reaches every monitor before the workload ends.
    const deadline = performance.now() + REQUEST_TIMEOUT_MS;
    while (sent.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    if (sent.size > 0) throw new Error(`${s.kind} ${label}: ${sent.size} updates never reached every monitor`);
    const elapsed = (performance.now() - t0) / 1000;
    const calls = await syscalls?.stop();
    const cpu = readCpuSplit(s);
    results.set(`mixed.${mode}.cpu`, ((cpu.user + cpu.system - cpu0.user - cpu0.system) * 1e6) / commit.length);
    results.set(`mixed.${mode}.cpu.user`, ((cpu.user - cpu0.user) * 1e6) / commit.length);
    results.set(`mixed.${mode}.cpu.system`, ((cpu.system - cpu0.system) * 1e6) / commit.length);
    commit.sort((a, b) => a - b);
    delivery.sort((a, b) => a - b);
    results.set(`mixed.${mode}.tps`, commit.length / elapsed);
    results.set(`mixed.${mode}.commit99`, percentile(commit, 99));
    results.set(`mixed.${mode}.deliver99`, percentile(delivery, 99));
    return calls === undefined || counter === undefined ? undefined : { counter, calls, transactions: commit.length };
  } catch (e) {
    checkAlive(s, label);
    throw e;
  } finally {
    for (const c of [...writers, ...monitors]) c.close();
  }
}

// ---------------------------------------------------------------------------
// Workload 4: memory per row, RSS at a series of row counts.

async function runMemory(s: Server, counts: Counts, results: Results): Promise<void> {
  const [c] = await connectClients(s, 1, 'memory');
  if (c === undefined) return;
  const perTxn = 1000;
  let rows = 0;
  try {
    for (const step of counts.memorySteps) {
      while (rows < step) {
        const n = Math.min(perTxn, step - rows);
        const ops: Op[] = [];
        for (let k = 0; k < n; k++) {
          ops.push({
            op: 'insert',
            table: 'Logical_Switch',
            row: { name: `mem-${rows + k}`, external_ids: ['map', [['neutron:network_name', `net-${rows + k}`]]] },
          });
        }
        await transact(c, ops, 'plain');
        rows += n;
      }
      // Let the server settle (a GC for ovnts) before reading its RSS.
      await new Promise((r) => setTimeout(r, 1000));
      results.set(`mem.${step}`, readMemory(s).rss / 1024);
    }
  } catch (e) {
    checkAlive(s, 'memory');
    throw e;
  } finally {
    c.close();
  }
}

// ---------------------------------------------------------------------------
// One server, all workloads.

async function benchServer(kind: ServerKind, opts: Options, counts: Counts, syscalls: Map<string, SyscallCounts>): Promise<Results> {
  const results: Results = new Map();
  process.stderr.write(`bench: ${kind}: starting ovsdb-server\n`);
  const s = await startServer(kind, opts);
  try {
    results.set('rss.idle', readMemory(s).rss / 1024);
    if (opts.workloads.has('fanout')) {
      process.stderr.write(`bench: ${kind}: monitor fan-out (${counts.monitors} monitors, ${counts.fanoutUpdates} updates x 2 modes)\n`);
      await runFanout(s, counts, results);
    }
    for (const mode of opts.workloads.has('mixed') ? opts.modes : []) {
      const n = counts.mixedWriters * counts.mixedPerWriter;
      process.stderr.write(
        `bench: ${kind}: mixed, ${mode} (${n} transactions, ${counts.mixedWriters} writers, ${counts.mixedMonitors} monitors)\n`,
      );
      if (opts.warm) await runMixed(s, mode, counts, new Map(), undefined, `warm-${mode}`);
      const calls = await runMixed(s, mode, counts, results, opts.syscalls);
      if (calls !== undefined) syscalls.set(`${mode} ${kind}`, calls);
    }
    for (const mode of opts.workloads.has('throughput') ? opts.modes : []) {
      const n = counts.throughputClients * counts.throughputPerClient;
      process.stderr.write(`bench: ${kind}: throughput, ${mode} (${n} transactions, ${counts.throughputClients} clients)\n`);
      await runThroughput(s, mode, counts, results);
    }
    checkAlive(s, 'memory');
    const mem = readMemory(s);
    results.set('rss', mem.rss / 1024);
    results.set('hwm', mem.hwm / 1024);
    if (opts.workloads.has('memory')) {
      process.stderr.write(`bench: ${kind}: memory at ${counts.memorySteps.join(', ')} rows (on a fresh server)\n`);
      await stopServer(s);
      const m = await startServer(kind, opts);
      try {
        results.set('mem.idle', readMemory(m).rss / 1024);
        await runMemory(m, counts, results);
      } finally {
        await stopServer(m);
        rmSync(m.dir, { recursive: true, force: true });
        tempDirs.delete(m.dir);
      }
    }
  } finally {
    await stopServer(s);
  }
  results.set('dbsize', statSync(s.dbFile).size / (1024 * 1024));
  rmSync(s.dir, { recursive: true, force: true });
  tempDirs.delete(s.dir);
  return results;
}

// ---------------------------------------------------------------------------
// Report.

function metrics(counts: Counts): Array<[string, Metric]> {
  const rows: Array<[string, Metric]> = [];
  for (const mode of MODES) {
    const m = mode === 'plain' ? 'plain' : 'durable commit';
    const mix = `${counts.mixedWriters}x${counts.mixedPerWriter} with ${counts.mixedMonitors} monitors`;
    rows.push([`mixed.${mode}.tps`, { name: `mixed ${mix}: throughput, ${m}`, unit: 'txn/s', better: 'higher' }]);
    rows.push([`mixed.${mode}.commit99`, { name: `  commit latency p99, ${m}`, unit: 'ms', better: 'lower' }]);
    rows.push([`mixed.${mode}.deliver99`, { name: `  delivery to all monitors p99, ${m}`, unit: 'ms', better: 'lower' }]);
    rows.push([`mixed.${mode}.cpu`, { name: `  server CPU per txn, ${m}`, unit: 'us', better: 'lower' }]);
    rows.push([`mixed.${mode}.cpu.user`, { name: `    of which user, ${m}`, unit: 'us', better: 'lower' }]);
    rows.push([`mixed.${mode}.cpu.system`, { name: `    of which system (kernel), ${m}`, unit: 'us', better: 'lower' }]);
  }
  for (const mode of MODES) {
    const m = mode === 'plain' ? 'plain' : 'durable commit';
    rows.push([`tput.${mode}.tps`, { name: `throughput, ${m}`, unit: 'txn/s', better: 'higher' }]);
    rows.push([`tput.${mode}.p50`, { name: `  commit latency p50, ${m}`, unit: 'ms', better: 'lower' }]);
    rows.push([`tput.${mode}.p99`, { name: `  commit latency p99, ${m}`, unit: 'ms', better: 'lower' }]);
    rows.push([`tput.${mode}.cpu`, { name: `  server CPU per txn, ${m}`, unit: 'us', better: 'lower' }]);
  }
  for (const mode of MODES) {
    const m = mode === 'plain' ? 'plain' : 'durable commit';
    rows.push([`fanout.${mode}.p50`, { name: `fan-out to ${counts.monitors} p50, ${m}`, unit: 'ms', better: 'lower' }]);
    rows.push([`fanout.${mode}.p99`, { name: `fan-out to ${counts.monitors} p99, ${m}`, unit: 'ms', better: 'lower' }]);
    rows.push([`fanout.${mode}.total`, { name: `  ${counts.fanoutUpdates} updates total, ${m}`, unit: 's', better: 'lower' }]);
    rows.push([`fanout.${mode}.cpu`, { name: `  server CPU per update, ${m}`, unit: 'us', better: 'lower' }]);
  }
  rows.push(['rss.idle', { name: 'server RSS idle, after start', unit: 'MiB', better: 'lower' }]);
  rows.push(['rss', { name: 'server RSS after workloads', unit: 'MiB', better: 'lower' }]);
  rows.push(['hwm', { name: 'server peak RSS (VmHWM)', unit: 'MiB', better: 'lower' }]);
  rows.push(['dbsize', { name: 'database file size', unit: 'MiB', better: 'lower' }]);
  rows.push(['mem.idle', { name: 'memory: RSS idle (fresh server)', unit: 'MiB', better: 'lower' }]);
  for (const n of counts.memorySteps)
    rows.push([`mem.${n}`, { name: `memory: RSS at ${n} Logical_Switch rows`, unit: 'MiB', better: 'lower' }]);
  return rows;
}

function format(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '-';
  if (v >= 1000) return v.toFixed(0);
  if (v >= 100) return v.toFixed(1);
  if (v >= 10) return v.toFixed(2);
  return v.toFixed(3);
}

function printTable(counts: Counts, ovnts: Results, real: Results): void {
  const header = ['metric', 'unit', 'ovnts', 'real', 'ovnts/real', 'better'];
  // Rows of workloads that did not run are left out.
  const ran = metrics(counts).filter(([key]) => ovnts.has(key) || real.has(key));
  const body = ran.map(([key, m]) => {
    const a = ovnts.get(key);
    const b = real.get(key);
    const ratio = a !== undefined && b !== undefined && b !== 0 ? `${(a / b).toFixed(2)}x` : '-';
    return [m.name, m.unit, format(a), format(b), ratio, `${m.better}`];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i === 0 || i === 1 || i === 5 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  const out = [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)];
  process.stdout.write(`${out.join('\n')}\n`);
  process.stdout.write(
    'ratio = ovnts/real; "better" says which direction of the value (and so of the ratio) is better.\n' +
      'Both servers acknowledge a plain commit once it is written to the file and fsync only durable ones\n' +
      '(ovnts groups concurrent durable commits into one fsync). Server CPU = user+sys from /proc/PID/stat.\n',
  );
}

function parseOptions(argv: string[]): Options {
  const o: Options = {
    quick: false,
    only: undefined,
    workloads: new Set(WORKLOADS),
    modes: MODES,
    cpuProfDir: undefined,
    syscalls: undefined,
    floor: false,
    warm: false,
  };
  for (const a of argv) {
    if (a === '--quick') o.quick = true;
    else if (a === '--only=ovnts' || a === '--only=real') o.only = a.slice(7) as ServerKind;
    else if (a.startsWith('--cpu-prof=')) o.cpuProfDir = resolve(a.slice(11));
    else if (a === '--syscalls=perf' || a === '--syscalls=strace') o.syscalls = a.slice(11) as SyscallCounter;
    else if (a === '--floor') o.floor = true;
    else if (a === '--warm') o.warm = true;
    else if (a.startsWith('--workloads=')) {
      const names = a.slice(12).split(',');
      const bad = names.filter((n) => !(WORKLOADS as readonly string[]).includes(n));
      if (bad.length > 0 || names.length === 0) {
        process.stderr.write(`bench: unknown workload '${bad.join(',')}' (known: ${WORKLOADS.join(', ')})\n`);
        process.exit(2);
      }
      o.workloads = new Set(names as Workload[]);
    } else if (a.startsWith('--modes=')) {
      const names = a.slice(8).split(',');
      if (names.some((n) => !(MODES as readonly string[]).includes(n))) {
        process.stderr.write(`bench: unknown mode in '${a}' (known: ${MODES.join(', ')})\n`);
        process.exit(2);
      }
      o.modes = names as Mode[];
    } else if (a === '-h' || a === '--help') {
      process.stdout.write(
        'usage: node dist/bench/ovsdb.js [--quick] [--only=ovnts|real] [--workloads=fanout,throughput,mixed,memory] [--modes=plain,durable] [--cpu-prof=DIR] [--syscalls=perf|strace] [--floor] [--warm]\n',
      );
      process.exit(0);
    } else {
      process.stderr.write(`bench: unknown option '${a}'\n`);
      process.exit(2);
    }
  }
  return o;
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const counts = countsFor(opts.quick);
  const kinds: ServerKind[] = opts.only === undefined ? ['ovnts', 'real'] : [opts.only];
  const all: Record<ServerKind, Results> = { ovnts: new Map(), real: new Map() };
  const syscalls = new Map<string, SyscallCounts>();
  let failed = false;
  for (const kind of kinds) {
    const t0 = performance.now();
    try {
      all[kind] = await benchServer(kind, opts, counts, syscalls);
      process.stderr.write(`bench: ${kind}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    } catch (e) {
      failed = true;
      process.stderr.write(`bench: ${(e as Error).message}\n`);
      cleanupNow();
    }
  }
  process.stdout.write(
    `\novsdb-server benchmark${opts.quick ? ' (--quick: counts / 10)' : ''}: ` +
      `${counts.throughputClients}x${counts.throughputPerClient} txns, ` +
      `${counts.monitors} monitors x ${counts.fanoutUpdates} updates\n\n`,
  );
  if (opts.warm) process.stdout.write("--warm: the mixed rows are each server's second mixed run (the first was untimed).\n\n");
  if (opts.floor) process.stdout.write('--floor: the "ovnts" column is bench/floor-server.ts (Node I/O, no database).\n\n');
  printTable(counts, all.ovnts, all.real);
  for (const mode of opts.modes) {
    const ovnts = syscalls.get(`${mode} ovnts`);
    const real = syscalls.get(`${mode} real`);
    if (ovnts !== undefined || real !== undefined) printSyscallTable(`mixed, ${mode}`, ovnts, real);
  }
  if (failed) process.exitCode = 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
  cleanupNow();
  process.exitCode = 1;
});
