/**
 * `ovnts ipam` as a daemon: one-line start-up errors and status 1, `--detach
 * --pidfile --log-file --unixctl`, the API answering while detached, and a
 * prompt exit on SIGTERM (pid file removed) and on `ovn-appctl exit`.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { OVNTS, startServer } from '../helpers/ovsdb-servers.js';
import { cleanupAll, run, tmpDir, waitFor } from '../helpers/proc.js';

after(cleanupAll);

test('start-up errors are one line and status 1', { timeout: 60_000 }, async () => {
  const nb = await startServer('ovnts');
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = (busy.address() as { port: number }).port;
  try {
    const cases: Array<[string[], RegExp]> = [
      [['--auth=ldap'], /^ovnts-ipam: --auth=ldap: unknown authentication \(one of: noauth, keystone\)\n$/],
      [['--auth=keystone'], /^ovnts-ipam: --auth=keystone needs --users=FILE\n$/],
      [['--listen=nowhere'], /^ovnts-ipam: nowhere: bad --listen address \(expected ADDR:PORT\)\n$/],
      [['--bogus'], /^ovnts-ipam: unrecognized option '--bogus'\n$/],
      [
        ['--ovnnb-db=unix:/nonexistent/nb.sock', '--listen=127.0.0.1:0'],
        /^ovnts-ipam: unix:\/nonexistent\/nb.sock: cannot connect to the northbound database\n$/,
      ],
      [
        [`--ovnnb-db=${nb.remote}`, `--listen=127.0.0.1:${port}`],
        /^ovnts-ipam: listen EADDRINUSE: address already in use 127\.0\.0\.1:\d+\n$/,
      ],
    ];
    for (const [args, msg] of cases) {
      const r = await run(OVNTS, ['ipam', ...args]);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
    }
  } finally {
    busy.close();
    await nb.cleanup();
  }
});

test('--detach --pidfile --log-file --unixctl; SIGTERM and ovn-appctl exit stop it promptly', { timeout: 60_000 }, async () => {
  const nb = await startServer('ovnts');
  const tmp = tmpDir('ovnts-ipam-daemon');
  const pidfile = join(tmp.path, 'ipam.pid');
  const logFile = join(tmp.path, 'ipam.log');
  const ctl = join(tmp.path, 'ipam.ctl');
  try {
    for (const stopBy of ['SIGTERM', 'appctl'] as const) {
      const r = await run(OVNTS, [
        'ipam',
        `--ovnnb-db=${nb.remote}`,
        '--listen=127.0.0.1:0',
        '--detach',
        `--pidfile=${pidfile}`,
        `--log-file=${logFile}`,
        `--unixctl=${ctl}`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const pid = Number(readFileSync(pidfile, 'utf8'));
      const port = /serving http:\/\/127\.0\.0\.1:(\d+)\//.exec(
        readFileSync(logFile, 'utf8')
          .split('\n')
          .filter((l) => l.includes('serving'))
          .pop() ?? '',
      )?.[1];
      assert.ok(port !== undefined);
      const res = await fetch(`http://127.0.0.1:${port}/v2.0/networks`);
      assert.deepEqual(await res.json(), { networks: [] });
      const t0 = Date.now();
      if (stopBy === 'SIGTERM') process.kill(pid, 'SIGTERM');
      else assert.equal((await run('ovs-appctl', ['-t', ctl, 'exit'])).code, 0);
      await waitFor(() => !existsSync(pidfile), { what: 'pid file removed', timeoutMs: 5000 });
      await waitFor(
        () => {
          try {
            process.kill(pid, 0);
            return false;
          } catch {
            return true;
          }
        },
        { what: 'process gone', timeoutMs: 5000 },
      );
      assert.ok(Date.now() - t0 < 5000);
    }
  } finally {
    tmp.cleanup();
    await nb.cleanup();
  }
});
