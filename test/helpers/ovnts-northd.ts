/**
 * Starts `ovnts northd` on a test's databases, the way the lab starts the real
 * ovn-northd: its own control socket (`ovn-appctl -t SOCK status`), pid and log
 * in the component's directory; ready once it reports "Status: active".
 * Usable as `runSeedLab({ northd: startOvntsNorthd })`.
 */
import { join } from 'node:path';
import type { ComponentContext, RunningComponent } from './ovn-lab.js';
import { run, spawnDaemon, type Daemon } from './proc.js';
import { OVNTS } from './ovsdb-servers.js';

export interface OvntsNorthdHandle extends RunningComponent {
  readonly daemon: Daemon;
  readonly ctl: string;
  readonly logFile: string;
  kill(): Promise<void>;
}

export async function northdStatus(ctl: string): Promise<string> {
  return (await run('ovn-appctl', ['-t', ctl, 'status'], { timeoutMs: 5000 })).stdout.trim();
}

/** `wantActive`: wait for "Status: active" (default) or only for the control socket (a standby). */
export async function startOvntsNorthd(
  ctx: Pick<ComponentContext, 'dbs' | 'dir' | 'log'>,
  wantActive = true,
  name = 'ovnts-northd',
): Promise<OvntsNorthdHandle> {
  const ctl = join(ctx.dir, `${name}.ctl`);
  const logFile = join(ctx.dir, `${name}.log`);
  const d = await spawnDaemon(
    OVNTS,
    [
      'northd',
      `--ovnnb-db=${ctx.dbs.nbRemote}`,
      `--ovnsb-db=${ctx.dbs.sbRemote}`,
      `--unixctl=${ctl}`,
      `--log-file=${logFile}`,
      `--pidfile=${join(ctx.dir, `${name}.pid`)}`,
    ],
    {
      name,
      onLine: ctx.log,
      readyWhen: async () => {
        const s = await northdStatus(ctl);
        return wantActive ? s === 'Status: active' : s.startsWith('Status: ');
      },
    },
  );
  return {
    daemon: d,
    ctl,
    logFile,
    stop: () => d.stop(),
    kill: async () => {
      if (d.running()) d.process.kill('SIGKILL');
      await d.exited;
    },
  };
}
