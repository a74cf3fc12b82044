/**
 * The lab chassis' own Open vSwitch: ovsdb-server(1) on a fresh Open_vSwitch
 * database and ovs-vswitchd(8), both inside the chassis' network namespace,
 * with run, db and log files in one directory. Every tool is pointed at it
 * with `--db`/`-t` and OVS_RUNDIR/OVS_DBDIR/OVS_LOGDIR, so the system's
 * /var/run/openvswitch is never touched and its `<bridge>.mgmt` sockets are
 * its own (two userspace `br-int` in one namespace would collide: each bridge
 * is a tap device there).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { socketAccepts } from '../lib/socket-probe.js';
import { run, runOk, startDaemon } from './exec.js';

const VSWITCH_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

export interface LabOvs {
  /** `unix:<dir>/db.sock`. */
  readonly dbRemote: string;
  /** The environment that points OVS tools and the controller at this instance. */
  readonly env: Readonly<Record<string, string>>;
  /** ovs-vsctl(8) on this instance's database; resolves to stdout. */
  vsctl(...args: string[]): Promise<string>;
}

/**
 * Starts both daemons in `netns` and waits until the database accepts
 * connections, `ovs-appctl version` answers and ovs-vswitchd has applied a
 * first change (ovs-vsctl(8) waits for `cur_cfg`). `started` gets each
 * daemon's pid as soon as it runs, so a failure later leaves nothing
 * unrecorded; `signal` aborts every command of the instance, vsctl's included.
 */
export async function startLabOvs(
  dir: string,
  netns: string,
  started: (name: string, pid: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<LabOvs> {
  const env = { OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  const dbFile = join(dir, 'conf.db');
  const dbSock = join(dir, 'db.sock');
  const dbRemote = `unix:${dbSock}`;
  const ctl = join(dir, 'ovs-vswitchd.ctl');
  const inNs = ['netns', 'exec', netns];
  const vsctl = (...args: string[]): Promise<string> => runOk('ovs-vsctl', [`--db=${dbRemote}`, '--timeout=30', ...args], { env, signal });
  if (!existsSync(dbFile)) await runOk('ovsdb-tool', ['create', dbFile, VSWITCH_SCHEMA], { env, signal });
  const common = (name: string): string[] => [
    `--pidfile=${join(dir, `${name}.pid`)}`,
    `--log-file=${join(dir, `${name}.log`)}`,
    '--no-chdir',
    '-vconsole:warn',
  ];
  await startDaemon(
    'ip',
    [...inNs, 'ovsdb-server', dbFile, `--remote=punix:${dbSock}`, `--unixctl=${join(dir, 'ovsdb-server.ctl')}`, ...common('ovsdb-server')],
    {
      logFile: join(dir, 'ovsdb-server.out'),
      env,
      onSpawn: (pid) => started('ovsdb-server', pid),
      signal,
      readyWhen: () => socketAccepts(dbSock),
    },
  );
  await vsctl('--no-wait', 'init');
  await startDaemon('ip', [...inNs, 'ovs-vswitchd', dbRemote, `--unixctl=${ctl}`, ...common('ovs-vswitchd')], {
    logFile: join(dir, 'ovs-vswitchd.out'),
    env,
    onSpawn: (pid) => started('ovs-vswitchd', pid),
    signal,
    readyWhen: async () => (await run('ovs-appctl', ['-t', ctl, 'version'], { env, timeoutMs: 5000, signal })).code === 0,
  });
  await vsctl('set', 'Open_vSwitch', '.', 'external_ids:ovnts-lab=true');
  return { dbRemote, env, vsctl };
}
