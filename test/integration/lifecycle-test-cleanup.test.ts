/**
 * A test run killed mid-way leaves nothing behind: a stand-in test process
 * (test/helpers/killed-test-run.ts) starts a forking daemon, an ovsdb-server and
 * a network namespace through the helpers and is then killed. On SIGTERM and
 * SIGINT (the runner cancelling a file, Ctrl-C) its exit handlers kill the
 * daemons' process groups and delete the namespace; on SIGKILL, which runs no
 * handler, the daemons still die of their parent-death signal (the namespace,
 * a name in /run/netns, cannot be removed by anyone then).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deleteNetns, runId } from '../helpers/netns.js';
import { cleanupAll, processAlive, waitFor } from '../helpers/proc.js';

after(cleanupAll);

const SCRIPT = fileURLToPath(new URL('../helpers/killed-test-run.js', import.meta.url));

for (const sig of ['SIGTERM', 'SIGINT', 'SIGKILL'] as const) {
  test(
    `a test process killed by ${sig} leaves no daemon${sig === 'SIGKILL' ? '' : ', no process group, no namespace'} behind`,
    { timeout: 60_000 },
    async () => {
      const netns = runId();
      const child = spawn(process.execPath, [SCRIPT, netns], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      let pids: { daemon: number; grandchild: number; server: number } | undefined;
      try {
        let out = '';
        child.stdout.on('data', (b: Buffer) => (out += b.toString()));
        await waitFor(() => out.includes('\n'), { what: 'the stand-in test to start its daemons', timeoutMs: 30_000 });
        pids = JSON.parse(out.split('\n')[0]!) as { daemon: number; grandchild: number; server: number };
        for (const p of [pids.daemon, pids.grandchild, pids.server]) assert.ok(processAlive(p), `pid ${p} runs before the kill`);
        assert.ok(existsSync(`/run/netns/${netns}`));
        child.kill(sig);
        await exited;
        const mustDie = sig === 'SIGKILL' ? [pids.daemon, pids.server] : [pids.daemon, pids.grandchild, pids.server];
        await waitFor(() => mustDie.every((p) => !processAlive(p)), {
          what: `${mustDie.filter(processAlive).join(', ')} to be gone`,
          timeoutMs: 5000,
        });
        if (sig !== 'SIGKILL') assert.equal(existsSync(`/run/netns/${netns}`), false, 'the namespace is deleted');
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        for (const p of pids === undefined ? [] : [pids.daemon, pids.grandchild, pids.server])
          if (processAlive(p)) process.kill(p, 'SIGKILL');
        await deleteNetns(netns);
      }
    },
  );
}
