/**
 * The lab's OVN databases served by `ovnts ovsdb-server` instead of the real
 * one: same files, sockets and layout as startRealOvnDatabases, so the seed
 * lab fixture runs unchanged on top of it.
 */
import { join } from 'node:path';
import { runOk, spawnDaemon, type Daemon } from './proc.js';
import { socketAccepts } from './ovs.js';
import { NB_SCHEMA_FILE, SB_SCHEMA_FILE, type LabDatabases } from './ovn-lab.js';
import { OVNTS } from './ovsdb-servers.js';

export async function startOvntsDatabases(dir: string): Promise<LabDatabases> {
  const servers: Daemon[] = [];
  const stop = async (): Promise<void> => {
    for (const s of servers) await s.stop(2000);
  };
  try {
    for (const [db, schema] of [
      ['nb', NB_SCHEMA_FILE],
      ['sb', SB_SCHEMA_FILE],
    ] as const) {
      const file = join(dir, `${db}.db`);
      const sock = join(dir, `${db}.sock`);
      await runOk(OVNTS, ['ovsdb-tool', 'create', file, schema]);
      servers.push(
        await spawnDaemon(
          OVNTS,
          ['ovsdb-server', file, `--remote=punix:${sock}`, `--pidfile=${join(dir, `${db}.pid`)}`, `--log-file=${join(dir, `${db}.log`)}`],
          { name: `ovnts ovsdb-server(${db})`, readyWhen: () => socketAccepts(sock) },
        ),
      );
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { nbRemote: `unix:${join(dir, 'nb.sock')}`, sbRemote: `unix:${join(dir, 'sb.sock')}`, stop };
}
