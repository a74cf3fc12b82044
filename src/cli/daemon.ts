/**
 * What every ovnts daemon command shares with the OVS/OVN daemons whose
 * command lines it takes: the daemon options (ovs-vswitchd(8) "Daemon
 * Options": `--pidfile`, `--detach`, `--no-chdir`, `--monitor`,
 * `--overwrite-pidfile`; "Logging Options": `--log-file`; `--unixctl`), log
 * lines in the vlog layout, the pid file's life, `--detach` as a background
 * copy that reports once it is ready, and shutdown on SIGTERM/SIGINT.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface DaemonOptions {
  pidfile: string | undefined;
  logFile: string | undefined;
  unixctl: string | undefined;
  detach: boolean;
}

export function defaultDaemonOptions(): DaemonOptions {
  return { pidfile: undefined, logFile: undefined, unixctl: undefined, detach: false };
}

export interface DaemonOptionDefaults {
  /** The program name files are named after (`ovn-northd` → `ovn-northd.pid`). */
  readonly program: string;
  /** Where a bare `--pidfile` puts the file. */
  readonly rundir: string;
  /** Where a bare `--log-file` puts the file. */
  readonly logdir: string;
}

/**
 * Applies one daemon option to `o`; false when `name` is not one. `inline` is
 * the text after `=`; `next` takes the following argument (for `--unixctl
 * SOCKET`) and throws when there is none.
 */
export function parseDaemonOption(
  o: DaemonOptions,
  name: string,
  inline: string | undefined,
  next: () => string,
  d: DaemonOptionDefaults,
): boolean {
  switch (name) {
    case '--pidfile':
      o.pidfile = resolve(inline ?? join(d.rundir, `${d.program}.pid`));
      return true;
    case '--log-file':
      o.logFile = resolve(inline ?? join(d.logdir, `${d.program}.log`));
      return true;
    case '--unixctl':
      o.unixctl = resolve(inline ?? next());
      return true;
    case '--detach':
      o.detach = true;
      return true;
    case '--no-chdir':
    case '--monitor':
    case '--overwrite-pidfile':
      return true;
    default:
      return false;
  }
}

/** `$OVN_RUNDIR/PROGRAM.PID.ctl`: where OVN daemons put their control socket unless told. */
export function defaultUnixctlPath(program: string): string {
  return join(process.env['OVN_RUNDIR'] ?? '/var/run/ovn', `${program}.${process.pid}.ctl`);
}

export interface DaemonLogger {
  /** A log function for one module (the third field of a vlog line). */
  module(name: string): (msg: string) => void;
  /** Stops writing to stderr (a detached daemon's stderr is its parent's, which is gone). */
  detachConsole(): void;
}

export interface DaemonLoggerOptions {
  /** Append lines here instead of writing them to stderr. */
  readonly file?: string | undefined;
  /**
   * `vlog`: `TIME|SEQ|MODULE|INFO|MESSAGE` as the OVS/OVN daemons write;
   * `brief`: `TIME|MODULE|MESSAGE` (`ovnts up`, whose lines interleave components).
   */
  readonly layout?: 'vlog' | 'brief';
}

export function createDaemonLogger(opts: DaemonLoggerOptions = {}): DaemonLogger {
  let seq = 0;
  let console = true;
  const layout = opts.layout ?? 'vlog';
  return {
    module: (name) => (msg) => {
      const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      const line = layout === 'vlog' ? `${time}|${String(++seq).padStart(5, '0')}|${name}|INFO|${msg}\n` : `${time}|${name}|${msg}\n`;
      if (opts.file !== undefined) appendFileSync(opts.file, line);
      else if (console) process.stderr.write(line);
    },
    detachConsole: () => {
      console = false;
      process.stderr.on('error', () => {});
    },
  };
}

/** Writes the pid file (once the daemon serves: callers wait on it as a readiness barrier). */
export function writePidfile(file: string | undefined): void {
  if (file !== undefined) writeFileSync(file, `${process.pid}\n`);
}

function removePidfile(file: string | undefined): void {
  if (file === undefined) return;
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

/**
 * Tells a `--detach` parent that this copy is ready (it then exits 0) and lets
 * go of the parent's stdio.
 */
export function notifyReady(logger: DaemonLogger): void {
  if (process.send === undefined) return;
  process.send('ready');
  process.disconnect();
  logger.detachConsole();
}

/** True in the `--detach` parent, which only starts the background copy. */
export function shouldDetach(o: DaemonOptions): boolean {
  return o.detach && process.send === undefined;
}

/**
 * `--detach`: starts a copy of `ovnts COMMAND ARGS` in the background and
 * resolves once it reports ready (0), or with its status if it exits first.
 * The copy's errors reach our stderr until then; after that it must not hold
 * our stdio open, or a caller waiting for our output would wait forever.
 */
export function detach(command: string, args: readonly string[]): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1] as string, command, ...args], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  child.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
  return new Promise((done) => {
    child.once('message', () => {
      child.stderr?.destroy();
      child.unref();
      child.disconnect();
      done(0);
    });
    child.once('exit', (code) => done(code ?? 1));
  });
}

export interface Lifetime<T> {
  /** Resolves with the exit status once the daemon has stopped. */
  readonly done: Promise<number>;
  /** Stops the daemon (once; later calls wait for the first). */
  exit(arg: T): Promise<void>;
}

/**
 * The rest of a running daemon's life: SIGTERM or SIGINT (or `exit`) runs
 * `stop` once — with `onSignal` as its argument for a signal — then removes
 * the pid file; `done` resolves 0, or 1 if `stop` failed.
 */
export function runUntilStopped<T>(opts: { readonly pidfile: string | undefined; readonly onSignal: T; stop(arg: T): Promise<void> }): Lifetime<T> {
  let finish: (code: number) => void = () => undefined;
  const done = new Promise<number>((r) => (finish = r));
  let stopping: Promise<void> | undefined;
  const exit = (arg: T): Promise<void> => {
    stopping ??= opts.stop(arg).then(
      () => {
        removePidfile(opts.pidfile);
        finish(0);
      },
      () => finish(1),
    );
    return stopping;
  };
  process.once('SIGTERM', () => void exit(opts.onSignal));
  process.once('SIGINT', () => void exit(opts.onSignal));
  return { done, exit };
}
