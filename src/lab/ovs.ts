/**
 * A private Open vSwitch: ovsdb-server(1) on a fresh Open_vSwitch database and
 * ovs-vswitchd(8), optionally inside a network namespace, with run, db and log
 * files in one directory. Every tool is pointed at it with `--db`/`-t` and
 * OVS_RUNDIR/OVS_DBDIR/OVS_LOGDIR, so the system's /var/run/openvswitch is
 * never touched and its `<bridge>.mgmt` sockets are its own (two userspace
 * `br-int` in one namespace would collide: each bridge is a tap device there).
 *
 * The lab chassis ({@link startLabOvs}) and the tests' helper
 * (test/helpers/ovs.ts) both start it with {@link startPrivateOvs}; they differ
 * only in how a daemon process is kept (a detached session with a log file
 * that may outlive the lab, or a child of the test).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { socketAccepts } from '../lib/socket-probe.js';
import { run, runOk, startDaemon, type RunOptions, type RunResult } from './exec.js';

export const VSWITCH_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

/** Where a private OVS keeps its files, and the environment that points OVS tools (and ovn-controller) at it. */
export interface PrivateOvsFiles {
  readonly dir: string;
  readonly dbFile: string;
  readonly dbSock: string;
  /** `unix:<dir>/db.sock`. */
  readonly dbRemote: string;
  /** ovs-vswitchd's control socket, for `ovs-appctl -t`. */
  readonly vswitchdCtl: string;
  readonly env: Readonly<Record<string, string>>;
}

export function privateOvsFiles(dir: string): PrivateOvsFiles {
  const dbSock = join(dir, 'db.sock');
  return {
    dir,
    dbFile: join(dir, 'conf.db'),
    dbSock,
    dbRemote: `unix:${dbSock}`,
    vswitchdCtl: join(dir, 'ovs-vswitchd.ctl'),
    env: { OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir },
  };
}

export type OvsDaemonName = 'ovsdb-server' | 'ovs-vswitchd';

export interface PrivateOvsOptions<H> {
  /** Run both daemons inside this (existing) network namespace. */
  readonly netns?: string | undefined;
  /**
   * Starts one daemon (`argv[0]` is the program, `ip netns exec NS` in front
   * inside a namespace) and resolves once `readyWhen` holds; the caller
   * records the handle for its teardown, also when a later step fails.
   */
  launch(name: OvsDaemonName, argv: string[], readyWhen: () => Promise<boolean>): Promise<H>;
  /** `-vconsole:LEVEL` per daemon (default warn): what each prints besides its log file. */
  readonly console?: Partial<Record<OvsDaemonName, string>>;
  /** The Open_vSwitch column setting whose commit waits for ovs-vswitchd's `cur_cfg` (it has read the database). */
  readonly mark: string;
  /** How the OVS tools are run (the tests track their children). */
  readonly tools?: {
    run(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult>;
    runOk(cmd: string, args: readonly string[], opts: RunOptions): Promise<string>;
  };
  /** Aborts every command (the daemons started so far are the caller's to stop). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Starts both daemons in `files.dir` and waits until the database accepts
 * connections, `ovs-appctl version` answers and ovs-vswitchd has applied a
 * first change (ovs-vsctl(8) waits for `cur_cfg`). Resolves to the handles.
 */
export async function startPrivateOvs<H>(files: PrivateOvsFiles, opts: PrivateOvsOptions<H>): Promise<{ ovsdbServer: H; vswitchd: H }> {
  const { dir, dbFile, dbSock, dbRemote, vswitchdCtl, env } = files;
  const tools = opts.tools ?? { run, runOk };
  const signal = opts.signal;
  const inNs = opts.netns === undefined ? [] : ['ip', 'netns', 'exec', opts.netns];
  const common = (name: OvsDaemonName): string[] => [
    `--pidfile=${join(dir, `${name}.pid`)}`,
    `--log-file=${join(dir, `${name}.log`)}`,
    '--no-chdir',
    `-vconsole:${opts.console?.[name] ?? 'warn'}`,
  ];
  if (!existsSync(dbFile)) await tools.runOk('ovsdb-tool', ['create', dbFile, VSWITCH_SCHEMA], { env, signal });
  const ovsdbServer = await opts.launch(
    'ovsdb-server',
    [...inNs, 'ovsdb-server', dbFile, `--remote=punix:${dbSock}`, `--unixctl=${join(dir, 'ovsdb-server.ctl')}`, ...common('ovsdb-server')],
    () => socketAccepts(dbSock),
  );
  await tools.runOk('ovs-vsctl', [`--db=${dbRemote}`, '--no-wait', 'init'], { env, signal });
  const vswitchd = await opts.launch(
    'ovs-vswitchd',
    [...inNs, 'ovs-vswitchd', dbRemote, `--unixctl=${vswitchdCtl}`, ...common('ovs-vswitchd')],
    async () => (await tools.run('ovs-appctl', ['-t', vswitchdCtl, 'version'], { env, timeoutMs: 5000, signal })).code === 0,
  );
  await tools.runOk('ovs-vsctl', [`--db=${dbRemote}`, '--timeout=30', 'set', 'Open_vSwitch', '.', opts.mark], { env, signal });
  return { ovsdbServer, vswitchd };
}

export interface LabOvs {
  /** `unix:<dir>/db.sock`. */
  readonly dbRemote: string;
  /** The environment that points OVS tools and the controller at this instance. */
  readonly env: Readonly<Record<string, string>>;
  /** ovs-vsctl(8) on this instance's database; resolves to stdout. */
  vsctl(...args: string[]): Promise<string>;
}

/**
 * The lab chassis' OVS in `netns` ({@link startPrivateOvs}), each daemon in its
 * own session with its output in `<dir>/<name>.out`. `started` gets each
 * daemon's pid as soon as it runs, so a failure later leaves nothing
 * unrecorded; `signal` aborts every command of the instance, vsctl's included.
 */
export async function startLabOvs(
  dir: string,
  netns: string,
  started: (name: string, pid: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<LabOvs> {
  const files = privateOvsFiles(dir);
  const { env, dbRemote } = files;
  await startPrivateOvs(files, {
    netns,
    mark: 'external_ids:ovnts-lab=true',
    signal,
    launch: (name, argv, readyWhen) =>
      startDaemon(argv[0] as string, argv.slice(1), {
        logFile: join(dir, `${name}.out`),
        env,
        onSpawn: (pid) => started(name, pid),
        signal,
        readyWhen,
      }),
  });
  return { dbRemote, env, vsctl: (...args) => runOk('ovs-vsctl', [`--db=${dbRemote}`, '--timeout=30', ...args], { env, signal }) };
}

/**
 * `br-int` as ovn-controller wants it (the recipe in DESIGN.md), unless there
 * already: the userspace datapath, fail-mode secure, no in-band control;
 * `extra` are more Bridge column settings (e.g. `protocols=OpenFlow15`).
 */
export async function addIntegrationBridge(vsctl: (...args: string[]) => Promise<string>, ...extra: string[]): Promise<void> {
  await vsctl(
    '--may-exist',
    'add-br',
    'br-int',
    '--',
    'set',
    'Bridge',
    'br-int',
    'datapath_type=netdev',
    'fail-mode=secure',
    'other-config:disable-in-band=true',
    ...extra,
  );
}
