/**
 * bench/cni.ts when its world's set-up fails: it must stop what it started
 * (OVS, `ovnts up`, namespaces, temporary directories) and exit 1 with one
 * line, never hang (it once waited 2 h 45 min with its OVS running). The
 * set-up is cut by its own deadline (BENCH_CNI_SETUP_MS) while it is under
 * way; the bench runs with a TMPDIR of its own, so whatever it leaves — a
 * directory, or a process whose command line names one — is found there.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupAll, run, tmpDir } from '../helpers/proc.js';
import { REPO } from '../helpers/ovsdb-servers.js';

after(cleanupAll);

/** Pids of processes whose command line contains `s`. */
function processesNaming(s: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(s);
      } catch {
        return false;
      }
    })
    .map(Number);
}

for (const ms of [300, 1500]) {
  test(
    `bench:cni, its set-up cut after ${ms} ms: everything it started is stopped, exit 1 with one line`,
    { timeout: 120_000 },
    async () => {
      const tmp = tmpDir('ovnts-bench-cni-unwind');
      const t0 = Date.now();
      const r = await run(process.execPath, [join(REPO, 'dist', 'bench', 'cni.js')], {
        env: { TMPDIR: tmp.path, BENCH_CNI: '1', BENCH_CNI_SETUP_MS: String(ms) },
        timeoutMs: 90_000,
      });
      const took = Date.now() - t0;
      process.stdout.write(`# set-up cut at ${ms} ms: exit ${r.code} after ${took} ms\n`);
      assert.equal(r.code, 1, `exit status (stderr: ${r.stderr})`);
      assert.deepEqual(
        r.stderr.trim().split('\n'),
        [`bench:cni: the CNI world set-up did not finish within ${ms} ms`],
        'one line on stderr',
      );
      assert.deepEqual(processesNaming(tmp.path), [], 'no process of the bench left');
      assert.deepEqual(readdirSync(tmp.path), [], 'no temporary directory left');
    },
  );
}
