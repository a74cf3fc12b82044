/**
 * A stand-in for a test file that gets killed mid-run, for
 * test/integration/lifecycle-test-cleanup.test.ts: it starts what tests start
 * through the helpers — a daemon that forks (`sh` with a background `sleep`),
 * an ovnts ovsdb-server (ovsdb-servers.ts) and a network namespace — prints
 * their pids and names as one JSON line, then waits to be killed.
 */
import { startServer } from './ovsdb-servers.js';
import { createNetns } from './netns.js';
import { spawnDaemon } from './proc.js';

const netns = process.argv[2] ?? 'tcleanup';
const daemon = await spawnDaemon('sh', ['-c', 'sleep 600 & echo $!; exec sleep 600'], { readyWhen: async () => true });
const server = await startServer('ovnts');
await createNetns(netns);
const grandchild = Number(daemon.output().trim().split('\n')[0]);
process.stdout.write(`${JSON.stringify({ daemon: daemon.pid, grandchild, server: server.process.pid, netns })}\n`);
setInterval(() => undefined, 1 << 30);
