/**
 * A private Open vSwitch instance for one test: its own ovsdb-server on a fresh
 * Open_vSwitch database and its own ovs-vswitchd, with run, db and log
 * directories in a temp dir (so its `<bridge>.mgmt` sockets are its own), and
 * optionally inside a network namespace (two userspace datapaths with the same
 * bridge names collide in one namespace: each bridge is a tap device).
 *
 * Nothing here touches /var/run/openvswitch: every tool is pointed at this
 * instance with `--db`, `-t` and the OVS_RUNDIR/OVS_DBDIR/OVS_LOGDIR environment.
 */
import { socketAccepts } from '../../src/lib/socket-probe.js';
import { addIntegrationBridge as addLabIntegrationBridge, privateOvsFiles, startPrivateOvs, VSWITCH_SCHEMA } from '../../src/lab/ovs.js';
import { nsPrefix } from './netns.js';
import { onCleanup, run, runOk, spawnDaemon, tmpDir, type Daemon, type RunOptions, type RunResult, type TmpDir } from './proc.js';

export { VSWITCH_SCHEMA };

export interface OvsOptions {
  /** Run both daemons inside this (existing) network namespace. */
  readonly netns?: string;
  /** Use this directory instead of a new temp dir (it is then not removed by `stop`). */
  readonly dir?: string;
  /** Called with every line the daemons print (warnings and errors only: file logs are in `dir`). */
  readonly log?: (line: string) => void;
}

export interface OvsInstance {
  /** The instance's run/db/log directory. */
  readonly dir: string;
  readonly netns: string | undefined;
  /** `unix:<dir>/db.sock`, for `ovs-vsctl --db` and `ovn-controller`. */
  readonly dbRemote: string;
  readonly dbSock: string;
  /** Control socket of ovs-vswitchd, for `ovs-appctl -t`. */
  readonly vswitchdCtl: string;
  /** The environment that points OVS tools (and ovn-controller) at this instance. */
  readonly env: Readonly<Record<string, string>>;
  readonly ovsdbServer: Daemon;
  readonly vswitchd: Daemon;
  /** `ovs-vsctl --db=<this db> ARGS`; resolves to stdout, rejects on failure. */
  vsctl(...args: string[]): Promise<string>;
  /** `ovs-ofctl ARGS` with this instance's run dir (bridge names resolve to its mgmt sockets). */
  ofctl(...args: string[]): Promise<string>;
  /** `ovs-appctl -t <ovs-vswitchd ctl> ARGS`. */
  appctl(...args: string[]): Promise<string>;
  /** Runs a command in the instance's namespace with its environment. */
  exec(cmd: string, args?: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** Kills both daemons and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export { socketAccepts };

/**
 * Starts ovsdb-server (ovsdb-server(1), on vswitch.ovsschema) and ovs-vswitchd
 * (ovs-vswitchd(8), in the foreground as a child) and waits until the database
 * socket accepts connections, `ovs-appctl version` answers and ovs-vswitchd
 * has applied a first change (ovs-vsctl(8) waits for `cur_cfg`).
 */
export async function startOvs(opts: OvsOptions = {}): Promise<OvsInstance> {
  const tmp: TmpDir | undefined = opts.dir === undefined ? tmpDir('ovnts-ovs') : undefined;
  const files = privateOvsFiles(opts.dir ?? tmp!.path);
  const { dir, dbRemote, dbSock, vswitchdCtl, env } = files;
  const pre = nsPrefix(opts.netns);
  const logOpt = opts.log ? { onLine: opts.log } : {};
  const started: Daemon[] = [];
  let unregister = (): void => undefined;

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    unregister();
    const vs = started[1];
    if (vs?.running()) {
      // Deletes the bridges' tap devices before exiting; SIGTERM/SIGKILL below if it hangs.
      await run('ovs-appctl', ['-t', vswitchdCtl, 'exit', '--cleanup'], { timeoutMs: 5000, env });
      await Promise.race([vs.exited, new Promise((r) => setTimeout(r, 3000))]);
    }
    for (const d of [...started].reverse()) await d.stop(2000);
    tmp?.cleanup();
  };

  try {
    await startPrivateOvs(files, {
      ...(opts.netns === undefined ? {} : { netns: opts.netns }),
      console: { 'ovsdb-server': 'warn', 'ovs-vswitchd': 'err' },
      mark: 'other_config:ovnts-test=true',
      tools: { run, runOk },
      launch: async (name, argv, readyWhen) => {
        const d = await spawnDaemon(argv[0]!, argv.slice(1), { ...logOpt, readyWhen, name, env });
        started.push(d);
        return d;
      },
    });
  } catch (e) {
    await stop();
    throw e;
  }
  unregister = onCleanup(stop);

  return {
    dir,
    netns: opts.netns,
    dbRemote,
    dbSock,
    vswitchdCtl,
    env,
    ovsdbServer: started[0]!,
    vswitchd: started[1]!,
    vsctl: (...args) => runOk('ovs-vsctl', [`--db=${dbRemote}`, '--timeout=30', ...args], { env }),
    ofctl: (...args) => runOk('ovs-ofctl', args, { env }),
    appctl: (...args) => runOk('ovs-appctl', ['-t', vswitchdCtl, ...args], { env }),
    exec: (cmd, args = [], o = {}) =>
      pre.length > 0
        ? run(pre[0]!, [...pre.slice(1), cmd, ...args], { ...o, env: { ...env, ...o.env } })
        : run(cmd, args, { ...o, env: { ...env, ...o.env } }),
    stop,
  };
}

/** `br-int` as ovn-controller wants it (src/lab/ovs.ts); `extra` are more Bridge column settings. */
export async function addIntegrationBridge(ovs: Pick<OvsInstance, 'vsctl'>, ...extra: string[]): Promise<void> {
  await addLabIntegrationBridge((...args) => ovs.vsctl(...args), ...extra);
}

/** An internal port on br-int bound to logical port `ifaceId` (`external_ids:iface-id`), as a VIF. */
export function addInternalVif(ovs: Pick<OvsInstance, 'vsctl'>, name: string, ifaceId: string = name): Promise<string> {
  return ovs.vsctl('add-port', 'br-int', name, '--', 'set', 'Interface', name, 'type=internal', `external_ids:iface-id=${ifaceId}`);
}
