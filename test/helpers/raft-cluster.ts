/**
 * A real clustered (Raft) database of the real ovsdb-server: `ovsdb-tool
 * create-cluster` for the first member, `join-cluster` for the others, one
 * `ovsdb-server` per member on unix sockets in a private directory (Raft
 * traffic too, as OVS's own cluster tests do). For tests of ovnts clients
 * against a cluster: the leader can be found, killed and brought back.
 */
import { join } from 'node:path';
import { runOk, spawnDaemon, tmpDir, waitFor, type Daemon } from './proc.js';
import { waitForSocket } from './ovsdb-servers.js';

export interface RaftMember {
  /** 1-based member number, used in file names. */
  readonly n: number;
  readonly dbFile: string;
  /** The client remote, `unix:DIR/sN.sock`. */
  readonly remote: string;
  readonly sockPath: string;
  /** The unixctl socket, for `ovs-appctl -t`. */
  readonly ctl: string;
  /** The running server, or undefined while killed. */
  daemon: Daemon | undefined;
}

export interface RaftCluster {
  readonly database: string;
  readonly dir: string;
  readonly members: readonly RaftMember[];
  /** Every member's client remote, comma-separated (what OVN's tools take). */
  readonly remotes: string;
  /** `cluster/status DB` of one member, as ovs-appctl prints it. */
  status(m: RaftMember): Promise<string>;
  /** Waits until some running member reports `Role: leader` and returns it. */
  leader(timeoutMs?: number): Promise<RaftMember>;
  /** SIGKILL (a crash) of one member, waiting for its exit. */
  kill(m: RaftMember): Promise<void>;
  /** Starts a killed member again on its files. */
  restart(m: RaftMember): Promise<void>;
  /** Stops every member and removes the directory. */
  stop(): Promise<void>;
}

async function launch(m: RaftMember, dir: string): Promise<void> {
  const d = await spawnDaemon(
    'ovsdb-server',
    [
      `--remote=punix:${m.sockPath}`,
      `--unixctl=${m.ctl}`,
      '--no-chdir',
      `--log-file=${join(dir, `s${m.n}.log`)}`,
      `--pidfile=${join(dir, `s${m.n}.pid`)}`,
      m.dbFile,
    ],
    { name: `ovsdb-server-s${m.n}` },
  );
  m.daemon = d;
  await waitForSocket(m.sockPath, d.process);
}

/**
 * Creates and starts a `size`-member cluster of `schema` (default 3) and waits
 * until it has a leader and every member has joined.
 */
export async function startRaftCluster(schema: string, database: string, size = 3): Promise<RaftCluster> {
  const tmp = tmpDir('ovnts-raft');
  const dir = tmp.path;
  const members: RaftMember[] = [];
  for (let n = 1; n <= size; n++) {
    members.push({
      n,
      dbFile: join(dir, `s${n}.db`),
      remote: `unix:${join(dir, `s${n}.sock`)}`,
      sockPath: join(dir, `s${n}.sock`),
      ctl: join(dir, `s${n}.ctl`),
      daemon: undefined,
    });
  }
  const raft = (n: number): string => `unix:${join(dir, `s${n}.raft`)}`;
  await runOk('ovsdb-tool', ['create-cluster', join(dir, 's1.db'), schema, raft(1)]);
  for (let n = 2; n <= size; n++) await runOk('ovsdb-tool', ['join-cluster', join(dir, `s${n}.db`), database, raft(n), raft(1)]);

  const status = (m: RaftMember): Promise<string> => runOk('ovs-appctl', ['-t', m.ctl, 'cluster/status', database], { timeoutMs: 5000 });
  const running = (): RaftMember[] => members.filter((m) => m.daemon?.running() === true);
  const cluster: RaftCluster = {
    database,
    dir,
    members,
    remotes: members.map((m) => m.remote).join(','),
    status,
    async leader(timeoutMs = 20000) {
      return waitFor(
        async () => {
          for (const m of running()) {
            const s = await status(m).catch(() => '');
            if (/^Role: leader$/m.test(s)) return m;
          }
          return undefined;
        },
        { timeoutMs, intervalMs: 100, what: `a leader of ${database}` },
      );
    },
    async kill(m) {
      const d = m.daemon;
      if (d === undefined) return;
      d.process.kill('SIGKILL');
      await d.exited;
      await d.stop();
      m.daemon = undefined;
    },
    async restart(m) {
      if (m.daemon !== undefined) return;
      await launch(m, dir);
    },
    async stop() {
      await Promise.all(
        members.map(async (m) => {
          await m.daemon?.stop(2000);
          m.daemon = undefined;
        }),
      );
      tmp.cleanup();
    },
  };
  try {
    for (const m of members) await launch(m, dir);
    await cluster.leader();
    // Joining members report "Status: joining cluster" until they are in.
    for (const m of members) {
      await waitFor(async () => /^Status: cluster member$/m.test(await status(m).catch(() => '')), {
        timeoutMs: 20000,
        intervalMs: 100,
        what: `s${m.n} to join ${database}`,
      });
    }
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}
