/**
 * bench/cni.ts when its world's set-up fails: it must stop what it started
 * (OVS, `ovnts up`, namespaces, temporary directories) and exit 1 with one
 * line, never hang (it once waited 2 h 45 min with its OVS running). The
 * set-up is cut by its own deadline (BENCH_CNI_SETUP_MS) just after it
 * began, and by SIGTERM once `ovnts up` runs; the bench runs with a TMPDIR of
 * its own, so whatever it leaves — a directory, or a process whose command
 * line names one — is found there.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { cleanupAll, run, tmpDir, waitFor } from '../helpers/proc.js';
import { REPO } from '../helpers/ovsdb-servers.js';

after(cleanupAll);

const BENCH = join(REPO, 'dist', 'bench', 'cni.js');

/** The command lines (NUL-separated) of the processes whose command line contains `s`, by pid. */
function commandLinesNaming(s: string): Map<number, string> {
  const found = new Map<number, string>();
  for (const d of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const cmdline = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmdline.includes(s)) found.set(Number(d), cmdline);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** What the bench left in its TMPDIR: processes naming it, and entries in it. */
function leftIn(dir: string): { processes: number[]; entries: string[] } {
  return { processes: [...commandLinesNaming(dir).keys()], entries: readdirSync(dir) };
}

// The deadline is 1 ms so that it fires while the set-up has surely only begun, however fast the machine (a
// 1500 ms deadline let the whole bench finish on a quiet CI runner).
test(
  'bench:cni, its set-up cut by its deadline: everything it started is stopped, exit 1 with one line',
  { timeout: 120_000 },
  async () => {
    const tmp = tmpDir('ovnts-bench-cni-unwind');
    const r = await run(process.execPath, [BENCH], {
      env: { TMPDIR: tmp.path, BENCH_CNI: '1', BENCH_CNI_SETUP_MS: '1' },
      timeoutMs: 90_000,
    });
    assert.equal(r.code, 1, `exit status (stderr: ${r.stderr})`);
    assert.deepEqual(r.stderr.trim().split('\n'), ['bench:cni: the CNI world set-up did not finish within 1 ms'], 'one line on stderr');
    assert.deepEqual(leftIn(tmp.path), { processes: [], entries: [] }, 'nothing of the bench left');
  },
);

// SIGTERM once `ovnts up` runs: OVS is up and the set-up is waiting on ovnts, the state the 2 h 45 min hang was in.
test(
  'bench:cni, SIGTERM while `ovnts up` is starting: everything it started is stopped, exit 1 with one line',
  { timeout: 120_000 },
  async () => {
    const tmp = tmpDir('ovnts-bench-cni-unwind');
    const child = spawn(process.execPath, [BENCH], {
      env: { ...process.env, TMPDIR: tmp.path, BENCH_CNI: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await waitFor(() => [...commandLinesNaming(tmp.path).values()].some((c) => c.includes('\0up\0')), {
      what: '`ovnts up` of the bench',
      timeoutMs: 60_000,
      intervalMs: 5,
    });
    child.kill('SIGTERM');
    assert.equal(await exited, 1, `exit status (stderr: ${stderr})`);
    assert.deepEqual(stderr.trim().split('\n'), ['bench:cni: SIGTERM, stopped'], 'one line on stderr');
    assert.deepEqual(leftIn(tmp.path), { processes: [], entries: [] }, 'nothing of the bench left');
  },
);
