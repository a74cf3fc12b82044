/**
 * `ovnts controller` command line, as ovn-controller(8) takes it: usage
 * errors worded and exit-coded like the real ovn-controller (the real binary
 * is run on the same arguments), and `--detach --pidfile --log-file`: returns
 * once running, the pid file names the daemon, SIGTERM removes it.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OVNTS } from '../helpers/ovsdb-servers.js';
import { socketAccepts, VSWITCH_SCHEMA } from '../helpers/ovs.js';
import { cleanupAll, run, runOk, spawnDaemon, tmpDir, waitFor } from '../helpers/proc.js';

after(cleanupAll);

test('usage errors: same message and status as ovn-controller', async () => {
  for (const args of [['--bogus'], ['unix:/a', 'unix:/b']]) {
    const real = await run('ovn-controller', args);
    const ours = await run(OVNTS, ['controller', ...args]);
    assert.equal(ours.code, real.code, `status for ${args.join(' ')}`);
    assert.equal(ours.stderr.trim(), real.stderr.trim(), `message for ${args.join(' ')}`);
  }
});

test('--detach --pidfile --log-file: runs in the background until SIGTERM', { timeout: 60_000 }, async () => {
  const tmp = tmpDir('ovnts-ctl-cli');
  const dir = tmp.path;
  const sock = join(dir, 'db.sock');
  await runOk('ovsdb-tool', ['create', join(dir, 'conf.db'), VSWITCH_SCHEMA]);
  const ovsdb = await spawnDaemon(
    'ovsdb-server',
    [join(dir, 'conf.db'), `--remote=punix:${sock}`, `--unixctl=${join(dir, 'ovsdb.ctl')}`, '--no-chdir', '-vconsole:err'],
    {
      readyWhen: () => socketAccepts(sock),
    },
  );
  const pidfile = join(dir, 'ovn-controller.pid');
  const logFile = join(dir, 'ovn-controller.log');
  let pid = 0;
  try {
    const r = await run(
      OVNTS,
      ['controller', `unix:${sock}`, '--detach', `--pidfile=${pidfile}`, `--log-file=${logFile}`, `--unixctl=${join(dir, 'c.ctl')}`],
      {
        env: { OVN_RUNDIR: dir },
        timeoutMs: 20000,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    pid = Number(readFileSync(pidfile, 'utf8').trim());
    assert.ok(pid > 0);
    process.kill(pid, 0); // alive
    assert.match(readFileSync(logFile, 'utf8'), /connected to the Open vSwitch database/);
    assert.equal((await run('ovn-appctl', ['-t', join(dir, 'c.ctl'), 'connection-status'])).stdout, 'not connected\n');
    process.kill(pid, 'SIGTERM');
    await waitFor(() => !existsSync(pidfile), { what: 'pid file removed' });
    pid = 0;
  } finally {
    if (pid > 0) process.kill(pid, 'SIGKILL');
    await ovsdb.stop();
    tmp.cleanup();
  }
});
