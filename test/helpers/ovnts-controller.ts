/**
 * Starts `ovnts controller` on a test's OVS instance, the way the lab starts the
 * real ovn-controller: inside the chassis' namespace, with OVS_RUNDIR pointing at
 * the instance (so it finds `<bridge>.mgmt`), logging to `<dir>/ovnts-controller.log`.
 * Usable as `runSeedLab({ controller: startOvntsController })`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nsPrefix } from './netns.js';
import type { ComponentContext, RunningComponent } from './ovn-lab.js';
import { spawnDaemon, type Daemon } from './proc.js';
import { OVNTS } from './ovsdb-servers.js';

export interface OvntsControllerHandle extends RunningComponent {
  readonly daemon: Daemon;
  readonly logFile: string;
  /** SIGKILL, no cleanup (the restart tests). */
  kill(): Promise<void>;
}

export async function startOvntsController(ctx: ComponentContext): Promise<OvntsControllerHandle> {
  const ovs = ctx.ovs;
  if (ovs === undefined) throw new Error('startOvntsController: the context has no OVS instance');
  const pre = nsPrefix(ovs.netns);
  const logFile = join(ctx.dir, 'ovnts-controller.log');
  const pidFile = join(ctx.dir, 'ovnts-controller.pid');
  const args = ['controller', ovs.dbRemote, `--pidfile=${pidFile}`, `--log-file=${logFile}`];
  // OVNTS_CPU_PROF=DIR: a V8 CPU profile of the controller into DIR (written when it exits), for the benches.
  const prof = process.env['OVNTS_CPU_PROF'];
  const cmd = prof === undefined ? [OVNTS, ...args] : [process.execPath, '--cpu-prof', `--cpu-prof-dir=${prof}`, OVNTS, ...args];
  const d = await spawnDaemon(pre.length > 0 ? pre[0]! : cmd[0]!, pre.length > 0 ? [...pre.slice(1), ...cmd] : cmd.slice(1), {
    name: 'ovnts-controller',
    env: { ...ovs.env, OVN_RUNDIR: ctx.dir, OVN_LOGDIR: ctx.dir },
    onLine: ctx.log,
    // The pid file is written once it is connected to the OVS database.
    readyWhen: async () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '',
  });
  return {
    daemon: d,
    logFile,
    stop: () => d.stop(),
    kill: async () => {
      if (d.running()) d.process.kill('SIGKILL');
      await d.exited;
    },
  };
}
