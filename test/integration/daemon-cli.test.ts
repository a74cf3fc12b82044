/**
 * The daemon options every ovnts daemon shares (src/cli/daemon.ts), on the two
 * that gained them with it: `ovnts up --detach --pidfile --log-file` and
 * `ovnts northd --detach --pidfile --log-file --unixctl` return once running,
 * write their pid files and log lines in their layouts (`TIME|MODULE|MSG` for
 * up, vlog `TIME|SEQ|northd|INFO|MSG` for northd), answer on the control
 * socket, and SIGTERM removes the pid files.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OVNTS } from '../helpers/ovsdb-servers.js';
import { cleanupAll, run, tmpDir, waitFor } from '../helpers/proc.js';

after(cleanupAll);

test('up and northd --detach: pid files, log layouts, control socket, SIGTERM', { timeout: 60_000 }, async () => {
  const tmp = tmpDir('ovnts-daemon-cli');
  const dir = tmp.path;
  const pids: number[] = [];
  try {
    const upPid = join(dir, 'up.pid');
    const upLog = join(dir, 'up.log');
    const r1 = await run(OVNTS, [
      'up',
      '--no-controller',
      `--rundir=${dir}`,
      `--dbdir=${dir}`,
      '--detach',
      `--pidfile=${upPid}`,
      `--log-file=${upLog}`,
    ]);
    assert.equal(r1.code, 0, r1.stderr);
    pids.push(Number(readFileSync(upPid, 'utf8')));
    assert.match(readFileSync(upLog, 'utf8'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|up\|running: NB unix:/m);

    // A second northd on the same databases stands by: the one inside `up` holds the lock.
    const nPid = join(dir, 'northd.pid');
    const nLog = join(dir, 'northd.log');
    const ctl = join(dir, 'northd.ctl');
    const r2 = await run(OVNTS, [
      'northd',
      `--ovnnb-db=unix:${join(dir, 'ovnnb_db.sock')}`,
      `--ovnsb-db=unix:${join(dir, 'ovnsb_db.sock')}`,
      '--detach',
      `--pidfile=${nPid}`,
      `--log-file=${nLog}`,
      `--unixctl=${ctl}`,
    ]);
    assert.equal(r2.code, 0, r2.stderr);
    pids.push(Number(readFileSync(nPid, 'utf8')));
    assert.match(readFileSync(nLog, 'utf8'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|00001\|northd\|INFO\|/);
    await waitFor(async () => (await run('ovs-appctl', ['-t', ctl, 'status'])).stdout === 'Status: standby\n', { what: 'northd standby' });

    for (const [pid, file] of [
      [pids[1]!, nPid],
      [pids[0]!, upPid],
    ] as const) {
      process.kill(pid, 'SIGTERM');
      await waitFor(() => !existsSync(file), { what: `${file} removed` });
    }
    assert.equal(existsSync(ctl), false, 'the control socket goes with northd');
    pids.length = 0;
  } finally {
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
    tmp.cleanup();
  }
});
