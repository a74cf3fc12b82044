/**
 * Commands and daemons for the lab: run a command to completion with a
 * timeout, start a daemon in its own session with its output in a log file (so
 * it can outlive `ovnts lab --keep` and Ctrl-C in the terminal reaches only the
 * lab, which then tears down in order), stop a process by pid, and poll a
 * barrier instead of sleeping.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit status; null when killed by a signal (e.g. the timeout). */
  readonly code: number | null;
}

export interface RunOptions {
  /** SIGKILL after this long. Default 30000 ms. */
  readonly timeoutMs?: number;
  /** Extra environment on top of this process's. */
  readonly env?: Readonly<Record<string, string>>;
  /** Aborting kills the command (SIGKILL); an aborted signal starts nothing. */
  readonly signal?: AbortSignal | undefined;
}

/** Runs `cmd args` to completion; rejects only when `cmd` cannot be started or was aborted. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], {
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.signal === undefined ? {} : { signal: opts.signal, killSignal: 'SIGKILL' as const }),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${cmd}: ${e.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code });
    });
  });
}

/** Like `run`, but rejects unless the status is 0 (with the command's stderr); resolves to stdout. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0)
    throw new Error(`${[cmd, ...args].join(' ')}: ${r.code === null ? 'timed out' : `exit ${r.code}`}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

export interface WaitOptions {
  /** Default 20000 ms. */
  readonly timeoutMs?: number;
  /** Names the condition in the timeout error. */
  readonly what?: string;
  /** Aborting ends the wait (it rejects). */
  readonly signal?: AbortSignal | undefined;
}

/** Polls `predicate` every 50 ms until it is true; a predicate that throws ends the wait at once. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, opts: WaitOptions = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 20000;
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    opts.signal?.throwIfAborted();
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'a condition'}`);
    await new Promise((r) => setTimeout(r, 50));
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
