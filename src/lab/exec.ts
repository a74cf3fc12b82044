/**
 * Commands and daemons for the lab: run a command to completion with a
 * timeout, start a daemon in its own session with its output in a log file (so
 * it can outlive `ovnts lab --keep` and Ctrl-C in the terminal reaches only the
 * lab, which then tears down in order), stop a process by pid, and poll a
 * barrier instead of sleeping.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit status; null when killed by a signal (e.g. the timeout). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
}

export interface RunOptions {
  /** SIGKILL after this long. Default 30000 ms. */
  readonly timeoutMs?: number;
  /** Extra environment on top of this process's. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Written to the command's stdin, which is then closed (default: closed at once). */
  readonly input?: string;
  /** Reject with a {@link CommandError} when the exit status is not 0. Default false. */
  readonly check?: boolean;
  /** Aborting kills the command (SIGKILL); an aborted signal starts nothing. */
  readonly signal?: AbortSignal | undefined;
  /** Told of the child once it is spawned; the function it returns is called once it is gone (the tests track children with it). */
  readonly onChild?: (child: ChildProcess) => () => void;
}

/** A command that exited non-zero (or was killed) where success was required. */
export class CommandError extends Error {
  constructor(
    readonly cmd: string,
    readonly args: readonly string[],
    readonly result: RunResult,
  ) {
    super(
      `${[cmd, ...args].join(' ')} ${result.timedOut ? 'timed out' : `exited with ${result.code ?? result.signal}`}: ${result.stderr.trim() || result.stdout.trim()}`,
    );
    this.name = 'CommandError';
  }
}

/** Runs `cmd args` to completion; rejects when `cmd` cannot be started, was aborted, or (with `check`) failed. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], {
      env: opts.env === undefined ? process.env : { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
      ...(opts.signal === undefined ? {} : { signal: opts.signal, killSignal: 'SIGKILL' as const }),
    });
    const gone = opts.onChild?.(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 30000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
    child.once('error', (e) => {
      clearTimeout(timer);
      gone?.();
      reject(new Error(`${cmd}: ${e.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      gone?.();
      const result: RunResult = { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code, signal, timedOut };
      if (opts.check === true && code !== 0) reject(new CommandError(cmd, args, result));
      else resolve(result);
    });
  });
}

/** Like `run` with `check`: rejects unless the status is 0 (with the command's stderr); resolves to stdout. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  return (await run(cmd, args, { ...opts, check: true })).stdout;
}

export interface WaitOptions {
  /** Default 20000 ms. */
  readonly timeoutMs?: number;
  /** Default 25 ms. */
  readonly intervalMs?: number;
  /** Names the condition in the timeout error. */
  readonly what?: string;
  /** Aborting ends the wait (it rejects). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Polls `predicate` until it returns a truthy value and resolves to it. A
 * predicate that throws ends the wait at once (use that for "the daemon
 * died"); one that returns false keeps it polling. Nothing here sleeps instead.
 */
export async function waitFor<T>(predicate: () => T | Promise<T>, opts: WaitOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 20000;
  const intervalMs = opts.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await predicate();
    if (v !== undefined && v !== null && v !== false && v !== '' && v !== 0) return v;
    opts.signal?.throwIfAborted();
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'a condition'}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface StartOptions {
  /** Both output streams are appended here. */
  readonly logFile: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Readiness barrier, polled until true; rejects (after killing the daemon) if it exits first. */
  readonly readyWhen?: () => Promise<boolean>;
  /** Default 30000 ms. */
  readonly readyTimeoutMs?: number;
  /** Called with the pid as soon as the process runs (before it is ready): record it for teardown. */
  readonly onSpawn?: (pid: number) => Promise<void>;
  /** An aborted signal starts nothing; aborting ends the wait for readiness (the daemon is not stopped: record it). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Starts a daemon in a new session (its own process group) with its output in
 * `logFile`, and waits until `readyWhen`. Resolves to its pid.
 */
export async function startDaemon(cmd: string, args: readonly string[], opts: StartOptions): Promise<number> {
  opts.signal?.throwIfAborted();
  const fd = openSync(opts.logFile, 'a');
  const child = spawn(cmd, [...args], { env: { ...process.env, ...opts.env }, stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('error', (e) => reject(new Error(`${cmd}: ${e.message}`)));
    child.once('spawn', () => resolve(child.pid as number));
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  child.unref();
  await opts.onSpawn?.(pid);
  if (opts.readyWhen !== undefined) {
    const ready = opts.readyWhen;
    try {
      await waitFor(
        async () => {
          if (exited) throw new Error(`${cmd} exited before it was ready: ${tail(opts.logFile)}`);
          return ready();
        },
        { timeoutMs: opts.readyTimeoutMs ?? 30000, what: `${cmd} to be ready`, signal: opts.signal },
      );
    } catch (e) {
      await stopProcess(pid, '');
      throw e;
    }
  }
  return pid;
}

/** The last lines of a log file, for error messages. */
function tail(file: string, lines = 5): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function alive(pid: number, marker: string): boolean {
  try {
    // The pid may have been reused by now: only a process whose command line names `marker` is ours.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
  } catch {
    return false;
  }
}

/**
 * SIGTERM, then SIGKILL after `graceMs`, to `pid` — if it is still alive and
 * its command line contains `marker` (the lab's directory).
 */
export async function stopProcess(pid: number, marker: string, graceMs = 3000): Promise<void> {
  if (!alive(pid, marker)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (alive(pid, marker) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid, marker)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
    await waitFor(() => !alive(pid, marker), { timeoutMs: 5000, what: `process ${pid} to exit` });
  }
}
