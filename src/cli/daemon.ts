/**
 * What every ovnts daemon command shares with the OVS/OVN daemons whose
 * command lines it takes: the daemon options (ovs-vswitchd(8) "Daemon
 * Options": `--pidfile`, `--detach`, `--no-chdir`, `--monitor`,
 * `--overwrite-pidfile`; "Logging Options": `--log-file`, `-v`/`--verbose`;
 * `--unixctl`), the logger (lib/vlog.ts) and its vlog/* control commands,
 * the pid file's life, `--detach` as a background copy that reports once it
 * is ready, and shutdown on SIGTERM/SIGINT.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UnixctlServer } from '../lib/unixctl.js';
import { createMetricsScope, parseMetricsAddress, startMetricsServer, type MetricsAddress, type MetricsScope } from '../lib/metrics.js';
import { Vlog, type VlogOptions } from '../lib/vlog.js';
import type { OptionSpec } from './options.js';
import { parseCommandLine, type CommandLine } from './command-line.js';
import { bindErrnoText, errnoText } from '../lib/errno-text.js';

export interface DaemonOptions {
  pidfile: string | undefined;
  logFile: string | undefined;
  unixctl: string | undefined;
  detach: boolean;
  /** `-v[SPEC]`, `--verbose[=SPEC]`: vlog/set specs applied at start, in order. */
  verbose: string[];
  /** `--metrics=ADDR:PORT`: serve Prometheus metrics at http://ADDR:PORT/metrics. */
  metrics?: MetricsAddress | undefined;
}

export function defaultDaemonOptions(): DaemonOptions {
  return { pidfile: undefined, logFile: undefined, unixctl: undefined, detach: false, verbose: [] };
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
 * The daemon options as option-table rows (src/cli/options.ts), for every
 * daemon command's table: one row each, so a shared option is one line here.
 * `unixctlDefault` is what the help says a missing `--unixctl` means.
 */
export function daemonOptions<O extends DaemonOptions>(d: DaemonOptionDefaults, unixctlDefault?: string): OptionSpec<O>[] {
  const daemon = 'Daemon options';
  const logging = 'Logging options';
  return [
    { name: 'detach', help: 'run in the background once ready', section: daemon, set: (o) => void (o.detach = true) },
    { name: 'no-chdir', help: 'accepted for compatibility (ovnts never changes directory)', section: daemon, set: () => undefined },
    { name: 'monitor', help: 'accepted for compatibility (no monitor process)', section: daemon, set: () => undefined },
    {
      name: 'pidfile',
      arg: 'optional',
      metavar: 'FILE',
      help: 'write the process id to FILE once ready',
      default: join(d.rundir, `${d.program}.pid`),
      section: daemon,
      set: (o, v) => void (o.pidfile = resolve(v ?? join(d.rundir, `${d.program}.pid`))),
    },
    {
      name: 'overwrite-pidfile',
      help: 'accepted for compatibility (the pid file is always rewritten)',
      section: daemon,
      set: () => undefined,
    },
    {
      name: 'verbose',
      short: 'v',
      arg: 'optional',
      metavar: 'SPEC',
      help: 'set log levels as vlog/set SPEC does (module:destination:level);\nwithout SPEC, every module at dbg',
      section: logging,
      set: (o, v) => void o.verbose.push(v ?? ''),
    },
    {
      name: 'log-file',
      arg: 'optional',
      metavar: 'FILE',
      help: 'append log messages to FILE instead of stderr',
      default: join(d.logdir, `${d.program}.log`),
      section: logging,
      set: (o, v) => void (o.logFile = resolve(v ?? join(d.logdir, `${d.program}.log`))),
    },
    {
      name: 'metrics',
      arg: 'required',
      metavar: 'ADDR:PORT',
      help: 'serve Prometheus metrics at http://ADDR:PORT/metrics',
      section: 'Other options',
      set: (o, v) => void (o.metrics = parseMetricsAddress(v ?? '')),
    },
    {
      name: 'unixctl',
      arg: 'required',
      metavar: 'SOCKET',
      help: 'control socket for ovn-appctl/ovs-appctl',
      ...(unixctlDefault === undefined ? {} : { default: unixctlDefault }),
      section: 'Other options',
      set: (o, v) => void (o.unixctl = resolve(v ?? '')),
    },
  ];
}

/** Where bare `--pidfile` and `--log-file` go for an OVN daemon: $OVN_RUNDIR and $OVN_LOGDIR, else the working directory. */
export function ovnDaemonDefaults(program: string): DaemonOptionDefaults {
  return { program, rundir: process.env['OVN_RUNDIR'] ?? '.', logdir: process.env['OVN_LOGDIR'] ?? '.' };
}

/** `--metrics`: the registry the daemon's components register in; undefined without the option. */
export function daemonMetricsScope(o: DaemonOptions): MetricsScope | undefined {
  return o.metrics === undefined ? undefined : createMetricsScope();
}

/**
 * Serves `scope` on `--metrics`'s address once the daemon runs, and logs the
 * URL (with the port chosen for port 0); resolves to the way to stop it.
 * A failure to listen throws `--metrics=ADDR:PORT: reason`.
 */
export async function serveDaemonMetrics(
  o: DaemonOptions,
  scope: MetricsScope | undefined,
  log: (m: string) => void,
): Promise<() => Promise<void>> {
  if (o.metrics === undefined || scope === undefined) return () => Promise.resolve();
  const { host, port } = o.metrics;
  try {
    const server = await startMetricsServer(scope.registry, o.metrics);
    log(`serving metrics on ${server.url}`);
    return () => server.stop();
  } catch (e) {
    throw new Error(`--metrics=${host.includes(':') ? `[${host}]` : host}:${port}: ${(e as Error).message}`);
  }
}

/** `$OVN_RUNDIR/PROGRAM.PID.ctl`: where OVN daemons put their control socket unless told. */
export function defaultUnixctlPath(program: string): string {
  return join(process.env['OVN_RUNDIR'] ?? '/var/run/ovn', `${program}.${process.pid}.ctl`);
}

/** A daemon's logs: {@link Vlog} (levels per module and destination, asynchronous file writes). */
export type DaemonLogger = Vlog;

export interface DaemonLoggerOptions extends VlogOptions {
  /** The modules the daemon logs under, known before `verbose` is applied. */
  readonly modules?: readonly string[];
  /** `-v`/`--verbose` specs, applied in order; a bad one throws OVS's message. */
  readonly verbose?: readonly string[];
}

export function createDaemonLogger(opts: DaemonLoggerOptions = {}): DaemonLogger {
  const vlog = new Vlog(opts);
  for (const m of opts.modules ?? []) vlog.module(m);
  for (const spec of opts.verbose ?? []) vlog.set(spec);
  return vlog;
}

/** {@link createDaemonLogger}, or undefined after `PROG: message` on stderr for a bad `-v` spec. */
export function openDaemonLogger(prog: string, opts: DaemonLoggerOptions): DaemonLogger | undefined {
  try {
    return createDaemonLogger(opts);
  } catch (e) {
    process.stderr.write(`${prog}: ${(e as Error).message}\n`);
    return undefined;
  }
}

/**
 * The vlog commands of ovs-appctl(8) ("VLOG COMMANDS") every daemon serves:
 * vlog/set, vlog/list, vlog/reopen, vlog/close.
 */
export function registerVlogCommands(ctl: UnixctlServer, vlog: Vlog): void {
  ctl.register('vlog/set', '{spec | PATTERN:destination:pattern}', 0, Infinity, (args) => {
    for (const spec of args) vlog.set(spec);
    return '';
  });
  ctl.register('vlog/list', '', 0, 0, () => vlog.list());
  ctl.register('vlog/reopen', '', 0, 0, async () => {
    await vlog.reopen();
    return '';
  });
  ctl.register('vlog/close', '', 0, 0, async () => {
    await vlog.close();
    return '';
  });
}

/**
 * Writes the pid file (once the daemon serves: callers wait on it as a
 * readiness barrier) as OVS does, through `FILE.tmp` renamed into place, so a
 * reader never sees a partial file. {@link beginDaemon} made the `.tmp` at
 * start, which is where an unusable directory shows.
 */
function writePidfile(file: string | undefined): void {
  if (file === undefined) return;
  writeFileSync(`${file}.tmp`, `${process.pid}\n`);
  renameSync(`${file}.tmp`, file);
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
 * Declares the daemon ready: once the lines logged so far are in the log file,
 * writes the pid file (the barrier callers wait on) and tells a `--detach`
 * parent (which then exits 0), letting go of the parent's stdio.
 */
export async function notifyReady(logger: DaemonLogger, pidfile: string | undefined): Promise<void> {
  await logger.flush();
  writePidfile(pidfile);
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

/**
 * How long a stop may take before the daemon leaves anyway. A peer that
 * stopped answering (a frozen database, an OVS that accepts and never
 * replies) must not hold a daemon past SIGTERM: it is gone within a second,
 * as OVS's fatal-signal handling makes its daemons.
 */
const SIGNAL_STOP_DEADLINE_MS = 400;
/** `ovn-appctl exit` may take longer (the controller's --cleanup commits to the SB), but not forever. */
const COMMAND_STOP_DEADLINE_MS = 5000;

export type StopSignal = 'SIGTERM' | 'SIGINT';
const STOP_SIGNALS: readonly StopSignal[] = ['SIGTERM', 'SIGINT'];
const SIGNAL_NUMBER: Readonly<Record<StopSignal, number>> = { SIGTERM: 15, SIGINT: 2 };

/**
 * One daemon's run from start-up to exit: the files it must not leave behind
 * (pid file, unix sockets) whichever way it ends, start-up failures as one
 * line on stderr, and SIGTERM/SIGINT from the first moment — during start-up a
 * signal removes the files and ends the process at once with the signal's
 * status, as OVS's fatal_signal does.
 */
export class DaemonRun {
  private readonly files = new Set<string>();
  private handleSignal: (sig: StopSignal) => void;
  private readonly listeners = new Map<StopSignal, () => void>();
  private readonly crash = (e: unknown): void => {
    process.exitCode = this.fail(e);
    process.exit();
  };

  constructor(readonly prog: string) {
    this.handleSignal = (sig) => this.leave(sig);
    for (const sig of STOP_SIGNALS) {
      const l = (): void => this.handleSignal(sig);
      this.listeners.set(sig, l);
      process.on(sig, l);
    }
    // Until it serves, anything thrown is a start-up failure: one line, not a stack trace.
    process.on('uncaughtException', this.crash);
    process.on('unhandledRejection', this.crash);
  }

  /** Unlinked at exit, whichever way the daemon leaves. */
  removeOnExit(path: string): void {
    this.files.add(path);
  }

  /** Unlinks every file registered (synchronously: also on the way out of a forced exit). */
  removeFiles(): void {
    for (const f of this.files) {
      try {
        unlinkSync(f);
      } catch {
        // already gone
      }
    }
    this.files.clear();
  }

  /** A start-up failure: `PROG: message` on stderr, the files removed; returns the exit status 1. */
  fail(e: unknown): number {
    process.stderr.write(`${this.prog}: ${e instanceof Error ? e.message : String(e)}\n`);
    this.removeFiles();
    this.release();
    return 1;
  }

  /** The daemon serves: signals go to `handler` (its orderly stop) from now on. */
  serving(handler: (sig: StopSignal) => void): void {
    this.handleSignal = handler;
    process.off('uncaughtException', this.crash);
    process.off('unhandledRejection', this.crash);
  }

  /** Leaves with `sig`'s status (killed by it, as the OVS daemons are) once the files are gone. */
  leave(sig: StopSignal): void {
    this.removeFiles();
    this.release();
    process.kill(process.pid, sig);
    // Only if the default action did not end us (it always should): the shell's status for it.
    setTimeout(() => process.exit(128 + SIGNAL_NUMBER[sig]), 100).unref();
  }

  /** Gives the signals back their default action. */
  private release(): void {
    for (const [sig, l] of this.listeners) process.off(sig, l);
    this.listeners.clear();
    process.off('uncaughtException', this.crash);
    process.off('unhandledRejection', this.crash);
  }
}

/**
 * Starts a daemon's run (see {@link DaemonRun}); with a pid file, first makes
 * `FILE.tmp`, as ovs-vswitchd and ovn-northd do before anything else, so a
 * missing or unwritable run directory fails at once in their words:
 * `PROG: FILE.tmp: create failed (No such file or directory)`. Returns the
 * exit status 1 after that line instead of a run.
 */
export function beginDaemon(prog: string, pidfile: string | undefined): DaemonRun | number {
  const run = new DaemonRun(prog);
  if (pidfile === undefined) return run;
  const tmp = `${pidfile}.tmp`;
  try {
    closeSync(openSync(tmp, 'w'));
  } catch (e) {
    return run.fail(`${tmp}: create failed (${errnoText(e)})`);
  }
  run.removeOnExit(tmp);
  run.removeOnExit(pidfile);
  return run;
}

/**
 * Starts the control socket; failing that is a start-up failure in
 * ovn-northd's words (`PATH: could not initialize control socket (REASON)`).
 * The socket is removed at exit however the daemon leaves.
 */
export async function startControlSocket(run: DaemonRun, ctl: UnixctlServer): Promise<void> {
  try {
    await ctl.start();
  } catch (e) {
    throw new Error(`${ctl.path}: could not initialize control socket (${bindErrnoText(e, ctl.path)})`);
  }
  run.removeOnExit(ctl.path);
}

/** The unix socket paths among `punix:PATH` remotes (removed at exit by the run). */
export function punixPaths(remotes: readonly string[]): string[] {
  return remotes.filter((r) => r.startsWith('punix:')).map((r) => resolve(r.slice('punix:'.length)));
}

export interface Lifetime<T> {
  /** Resolves with the exit status once the daemon has stopped. */
  readonly done: Promise<number>;
  /** Stops the daemon (once; later calls wait for the first). */
  exit(arg: T): Promise<void>;
}

/** Resolves 'ok', 'failed' or 'late' (still running after `ms`). */
function settleWithin(p: Promise<void>, ms: number): Promise<'ok' | 'failed' | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), ms)));
  return Promise.race([
    p.then(
      () => 'ok' as const,
      () => 'failed' as const,
    ),
    late,
  ]).finally(() => clearTimeout(timer));
}

/**
 * The rest of a running daemon's life: SIGTERM or SIGINT (or `exit`) runs
 * `stop` once — with `onSignal` as its argument for a signal — then removes
 * the pid file; `done` resolves 0, or 1 if `stop` failed.
 *
 * With `run` (see {@link beginDaemon}), `stop` gets a deadline (0.4 s after a
 * signal, 5 s after `exit`): past it, or once it is done, the run's files are
 * removed and the process leaves — by the signal, as OVS daemons do, or with
 * `done`'s status — even if a connection that never closes or a pass waiting
 * on a frozen peer would keep Node's event loop alive.
 */
export function runUntilStopped<T>(opts: {
  readonly pidfile: string | undefined;
  readonly onSignal: T;
  readonly run?: DaemonRun;
  stop(arg: T): Promise<void>;
}): Lifetime<T> {
  let finish: (code: number) => void = () => undefined;
  const done = new Promise<number>((r) => (finish = r));
  let stopping: Promise<void> | undefined;
  const run = opts.run;
  const stopThenLeave = (arg: T, sig: StopSignal | undefined): Promise<void> => {
    stopping ??= settleWithin(opts.stop(arg), sig === undefined ? COMMAND_STOP_DEADLINE_MS : SIGNAL_STOP_DEADLINE_MS).then((how) => {
      removePidfile(opts.pidfile);
      if (run === undefined) return finish(how === 'failed' ? 1 : 0);
      if (sig !== undefined) return run.leave(sig);
      run.removeFiles();
      const code = how === 'failed' ? 1 : 0;
      finish(code);
      // What a stuck peer leaves open must not keep the process alive once it stopped.
      setTimeout(() => process.exit(code), 100).unref();
    });
    return stopping;
  };
  if (run !== undefined) run.serving((sig) => void stopThenLeave(opts.onSignal, sig));
  else for (const sig of STOP_SIGNALS) process.once(sig, () => void stopThenLeave(opts.onSignal, undefined));
  return { done, exit: (arg) => stopThenLeave(arg, undefined) };
}

/** One piece of a daemon (a server, a client, a listener): started in order, stopped in reverse. */
export interface DaemonPart<T> {
  /** A throw (or rejection) is a start-up failure: one line on stderr, status 1. */
  start?(): Promise<void>;
  /** Also called for a part whose start failed or never ran to the end, so it may find itself half-started. */
  stop(arg: T): Promise<void>;
}

/** What a daemon's parts are built from. */
export interface DaemonContext {
  readonly logger: DaemonLogger;
  /** The daemon's own module (the first of {@link DaemonSpec.modules}). */
  readonly log: (m: string) => void;
  /** `--metrics`'s registry, undefined without the option. */
  readonly metrics: MetricsScope | undefined;
  /** The control socket (not serving yet), for the daemon's own commands; undefined without one. */
  readonly ctl: UnixctlServer | undefined;
  /** For files the parts make (`removeOnExit`). */
  readonly run: DaemonRun;
}

/** What a daemon is made of, given its parsed options. */
export interface DaemonSpec<T> {
  /** The log modules, known before `-v` applies; the first is the daemon's own. */
  readonly modules: readonly [string, ...string[]];
  /**
   * The control socket's path (with `exit` and the vlog commands); none if
   * undefined. It starts before any part, as the OVN daemons make it: a bad
   * run directory fails at once, not after a peer answers.
   */
  readonly unixctl: string | undefined;
  /** The stop argument of a signal, of a failed start-up and of a bare `exit`. */
  readonly onSignal: T;
  /** `ovn-appctl exit`'s arguments beyond none (ovn-controller's `--restart`), and the stop argument they mean. */
  readonly exitArgs?: { readonly max: number; arg(args: readonly string[]): T };
  /** Builds the parts (a throw is a start-up failure); may register commands on `ctl`. */
  parts(d: DaemonContext): DaemonPart<T>[] | Promise<DaemonPart<T>[]>;
  /** The line logged once every part runs. */
  started(): string;
}

/**
 * A daemon's whole run, in the order every ovnts daemon keeps: `--detach`,
 * the logger, the pid file's `.tmp` ({@link beginDaemon}), the control
 * socket, `--metrics`, the parts in order; then the ready line, the pid file
 * and the detached parent's release ({@link notifyReady}); then serving until
 * SIGTERM/SIGINT or `exit` ({@link runUntilStopped}). A start-up failure stops
 * what was started, in reverse, and is one line on stderr; an orderly stop
 * stops the metrics first (a scrape never sees a half-stopped daemon), the
 * parts in reverse, the control socket last, then closes the log.
 *
 * `command` is the `ovnts` command (what a `--detach` parent starts again
 * with `args`); `line` parses `args`, and `daemon` says what the daemon is
 * made of given the options.
 */
export async function runDaemon<O extends DaemonOptions, T>(
  line: CommandLine<O>,
  command: string,
  args: readonly string[],
  daemon: (o: O) => DaemonSpec<T>,
): Promise<number> {
  const parsed = parseCommandLine(line, args);
  if (typeof parsed === 'number') return parsed;
  const o = parsed.options;
  if (shouldDetach(o)) return detach(command, args);
  const spec = { prog: line.program, ...daemon(o) };
  const modules = spec.unixctl === undefined || spec.modules.includes('unixctl') ? spec.modules : [...spec.modules, 'unixctl'];
  const logger = openDaemonLogger(spec.prog, { file: o.logFile, modules, verbose: o.verbose });
  if (logger === undefined) return 1;
  const run = beginDaemon(spec.prog, o.pidfile);
  if (typeof run === 'number') return run;
  const log = logger.module(spec.modules[0]);
  const metrics = daemonMetricsScope(o);
  // `exit` may come while the parts still start: it is carried out once the daemon serves.
  let pendingExit: { arg: T } | undefined;
  let exit = (arg: T): void => void (pendingExit ??= { arg });
  const ctl = spec.unixctl === undefined ? undefined : new UnixctlServer({ path: spec.unixctl, log: logger.module('unixctl') });
  if (ctl !== undefined) {
    const e = spec.exitArgs;
    ctl.register('exit', '', 0, e?.max ?? 0, (args) => {
      // Reply first: the process goes away once everything has stopped.
      setImmediate(() => exit(e === undefined ? spec.onSignal : e.arg(args)));
      return '';
    });
    registerVlogCommands(ctl, logger);
  }
  let stopMetrics = (): Promise<void> => Promise.resolve();
  const begun: DaemonPart<T>[] = [];
  const stopAll = async (arg: T, tolerate: boolean): Promise<void> => {
    const quiet = <R>(p: Promise<R>): Promise<R | undefined> => (tolerate ? p.catch(() => undefined) : p);
    await quiet(stopMetrics());
    for (const p of [...begun].reverse()) await quiet(p.stop(arg));
    if (ctl !== undefined) await quiet(ctl.stop());
    await logger.close();
  };
  try {
    const parts = await spec.parts({ logger, log, metrics, ctl, run });
    if (ctl !== undefined) await startControlSocket(run, ctl);
    stopMetrics = await serveDaemonMetrics(o, metrics, log);
    for (const p of parts) {
      begun.push(p);
      await p.start?.();
    }
  } catch (e) {
    await stopAll(spec.onSignal, true);
    return run.fail(e);
  }
  const life = runUntilStopped({ pidfile: o.pidfile, onSignal: spec.onSignal, run, stop: (arg) => stopAll(arg, false) });
  exit = (arg) => void life.exit(arg);
  log(spec.started());
  await notifyReady(logger, o.pidfile);
  if (pendingExit !== undefined) exit(pendingExit.arg);
  return life.done;
}

/** Waits for a server's start; databases that do not answer in time are a start-up error (`message`), not a hang. */
export async function startWithin(start: Promise<void>, message: string, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    await Promise.race([start, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
