/**
 * Process utilities for tests: run a command with a timeout, start daemons that
 * are always cleaned up, poll barriers instead of sleeps, and private temp dirs.
 *
 * Every daemon and temp dir made here is tracked; `cleanupAll()` (call it from
 * an `after` hook) stops what a test left behind, and a process `exit` handler
 * SIGKILLs any daemon still alive so a crashed test run leaves no orphans.
 * Daemons run in their own process group (what they fork dies with them) and
 * with a parent-death signal (setpriv(1) `--pdeathsig KILL`), so even a test
 * process killed with SIGKILL, which runs no handler, leaves no daemon behind.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { run as runCommand, waitFor, type RunOptions as LabRunOptions, type RunResult } from '../../src/lab/exec.js';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { CommandError, waitFor, type RunResult, type WaitOptions } from '../../src/lab/exec.js';

/** What a test may ask of a command (its children are tracked here, not by the caller). */
export type RunOptions = Omit<LabRunOptions, 'onChild'>;

/** Runs `cmd args` to completion and collects its output (src/lab's run, with the child tracked). Never rejects unless `check` is set. */
export function run(cmd: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<RunResult> {
  return runCommand(cmd, args, {
    ...opts,
    onChild: (child) => {
      commands.add(child);
      return () => commands.delete(child);
    },
  });
}

/** Like `run` with `check: true`; resolves to stdout. */
export async function runOk(cmd: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<string> {
  return (await run(cmd, args, { ...opts, check: true })).stdout;
}

export interface DaemonOptions {
  /** Readiness barrier, polled until true (or the daemon exits, or the timeout). */
  readonly readyWhen?: () => Promise<boolean>;
  /** Default 20000 ms. */
  readonly readyTimeoutMs?: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Name in errors and logs; defaults to the basename of `cmd`. */
  readonly name?: string;
  /** Called with each line of the daemon's stdout and stderr. */
  readonly onLine?: (line: string) => void;
}

export interface Daemon {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  /** Everything the daemon wrote on stdout and stderr so far (the last 64 KiB). */
  output(): string;
  running(): boolean;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs` (default 3000). Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const daemons = new Set<Daemon>();
/** Long-running children started elsewhere (ovsdb-servers.ts, neutron-server.ts), killed at exit with their groups. */
const children = new Set<ChildProcess>();
/** Commands started by `run` that have not finished yet. */
const commands = new Set<ChildProcess>();
const tmpDirs = new Set<string>();
const cleanups = new Set<() => Promise<void>>();

process.once('exit', () => {
  for (const d of daemons) if (d.running()) killGroup(d.process, 'SIGKILL');
  for (const c of children) if (c.exitCode === null && c.signalCode === null) killGroup(c, 'SIGKILL');
  for (const c of commands) if (c.exitCode === null) c.kill('SIGKILL');
  for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
});
// Interrupted runs (Ctrl-C, the test runner cancelling a file) still run the
// synchronous `exit` handlers above and in netns.ts.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1)));
}

const SETPRIV = '/usr/bin/setpriv';

/**
 * `cmd args` wrapped so that the process gets SIGKILL when the test process
 * dies, however it dies (setpriv(1) `--pdeathsig`, which execs `cmd`: the pid
 * is the command's). Spawn the result with `detached: true` for its own group.
 */
export function diesWithTest(cmd: string, args: readonly string[]): [string, string[]] {
  return existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'KILL', '--', cmd, ...args]] : [cmd, [...args]];
}

/** Signals `child`'s whole process group (it was spawned detached), or the child alone if that fails. */
export function killGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    child.kill(sig);
  }
}

/** True while a process with this pid exists (signal 0). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Tracks a long-running child spawned outside this module (detached) so the exit handler kills its group. */
export function killAtExit(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/**
 * Starts a long-running process and, when `readyWhen` is given, waits until it
 * reports ready. Rejects (after killing it) if it exits or never gets ready.
 */
export async function spawnDaemon(cmd: string, args: readonly string[] = [], opts: DaemonOptions = {}): Promise<Daemon> {
  const name = opts.name ?? cmd.split('/').pop() ?? cmd;
  const spawnOpts: SpawnOptions = {
    env: opts.env === undefined ? process.env : { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  };
  if (opts.cwd !== undefined) spawnOpts.cwd = opts.cwd;
  const [file, argv] = diesWithTest(cmd, args);
  const child = spawn(file, argv, spawnOpts);
  let buf = '';
  const onData = (b: Buffer): void => {
    const s = b.toString();
    buf = (buf + s).slice(-65536);
    if (opts.onLine) for (const line of s.split('\n')) if (line.trim() !== '') opts.onLine(`${name}: ${line}`);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const daemon: Daemon = {
    name,
    process: child,
    pid: child.pid ?? -1,
    output: () => buf,
    running,
    exited,
    stop: async (graceMs = 3000) => {
      if (running()) {
        child.kill('SIGTERM');
        const t = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
        await exited;
        clearTimeout(t);
      }
      // What it forked and left running goes with it.
      killGroup(child, 'SIGKILL');
      daemons.delete(daemon);
    },
  };
  daemons.add(daemon);
  const failed = await Promise.race([spawnError, new Promise<undefined>((r) => setImmediate(() => r(undefined)))]);
  if (failed) {
    daemons.delete(daemon);
    throw new Error(`${name}: ${failed.message}`);
  }
  if (opts.readyWhen) {
    const ready = opts.readyWhen;
    try {
      await waitFor(
        async () => {
          if (!running()) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before it was ready: ${buf.trim()}`);
          return ready();
        },
        { timeoutMs: opts.readyTimeoutMs ?? 20000, what: `${name} ready` },
      );
    } catch (e) {
      await daemon.stop(500);
      throw e;
    }
  }
  return daemon;
}

export interface TmpDir {
  readonly path: string;
  /** Removes the directory and everything in it. Idempotent. */
  cleanup(): void;
}

/** A fresh directory under the system temp dir, removed by `cleanup()` or `cleanupAll()`. */
export function tmpDir(prefix: string): TmpDir {
  const path = mkdtempSync(join(tmpdir(), prefix.endsWith('-') ? prefix : `${prefix}-`));
  tmpDirs.add(path);
  return {
    path,
    cleanup: () => {
      rmSync(path, { recursive: true, force: true });
      tmpDirs.delete(path);
    },
  };
}

/** Registers extra teardown (namespaces, bridges…) for `cleanupAll()`; returns an unregister function. */
export function onCleanup(fn: () => Promise<void>): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/**
 * Stops every daemon still tracked, runs registered cleanups (last first) and
 * removes tracked temp dirs. Call from `after` hooks; errors are collected and
 * rethrown together after everything was attempted.
 */
export async function cleanupAll(): Promise<void> {
  const errors: unknown[] = [];
  await Promise.all([...daemons].map((d) => d.stop(2000).catch((e: unknown) => errors.push(e))));
  for (const fn of [...cleanups].reverse()) {
    cleanups.delete(fn);
    try {
      await fn();
    } catch (e) {
      errors.push(e);
    }
  }
  for (const dir of [...tmpDirs]) {
    rmSync(dir, { recursive: true, force: true });
    tmpDirs.delete(dir);
  }
  if (errors.length > 0) throw new AggregateError(errors, `cleanup: ${errors.map(String).join('; ')}`);
}
