/**
 * `ovnts ui` and `ovnts up`'s page as daemons: `--help`; start-up errors in
 * one line (a bad option, a database socket that is not there, a port that is
 * taken); SIGTERM stops it promptly while a page holds its event stream open.
 * `ovnts up` serves the page on 127.0.0.1:8080 by default (each run in its own
 * network namespace, so the default port is its own), a second `up` there
 * finds the port taken, says so in one log line and runs on, and `--no-ui`
 * serves no page.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createNetns, nsRun, runId } from '../helpers/netns.js';
import { cleanupAll, run, spawnDaemon, tmpDir, type Daemon } from '../helpers/proc.js';
import { startOvnDatabases } from '../helpers/ovn-lab.js';
import { OVNTS } from '../helpers/ovsdb-servers.js';

after(cleanupAll);

const pidReady = (pidfile: string) => async (): Promise<boolean> => existsSync(pidfile) && readFileSync(pidfile, 'utf8').trim() !== '';

test('ovnts ui --help names its options', async () => {
  const r = await run(OVNTS, ['ui', '--help']);
  assert.equal(r.code, 0);
  for (const o of ['--listen', '--ovnnb-db', '--ovnsb-db', '--pidfile', '--log-file', '--detach', '--unixctl'])
    assert.match(r.stdout, new RegExp(o));
});

test('ovnts ui start-up errors are one line and exit 1', { timeout: 60_000 }, async () => {
  const bad = await run(OVNTS, ['ui', '--bogus']);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, "ovnts-ui: unrecognized option '--bogus'\n");
  const badListen = await run(OVNTS, ['ui', '--listen=nowhere']);
  assert.equal(badListen.code, 1);
  assert.equal(badListen.stderr, 'ovnts-ui: nowhere: bad --listen address (expected ADDR:PORT)\n');

  const tmp = tmpDir('ovnts-ui-cli');
  const dbs = await startOvnDatabases(tmp.path, 'ovnts');
  const taken = createServer();
  try {
    const gone = `unix:${join(tmp.path, 'nothing.sock')}`;
    const t0 = Date.now();
    const missing = await run(OVNTS, ['ui', `--ovnnb-db=${gone}`, `--ovnsb-db=${dbs.sbRemote}`, '--listen=127.0.0.1:0']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `ovnts-ui: ${gone}: database connection failed (No such file or directory)\n`);
    assert.ok(Date.now() - t0 < 4000, 'a missing socket fails at once, not after the connect timeout');

    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    const busy = await run(OVNTS, ['ui', `--ovnnb-db=${dbs.nbRemote}`, `--ovnsb-db=${dbs.sbRemote}`, `--listen=127.0.0.1:${port}`]);
    assert.equal(busy.code, 1);
    assert.equal(busy.stderr, `ovnts-ui: --listen=127.0.0.1:${port}: address already in use\n`);
  } finally {
    taken.close();
    await dbs.stop();
    tmp.cleanup();
  }
});

test('ovnts ui exits promptly on SIGTERM with a page connected', { timeout: 60_000 }, async () => {
  const tmp = tmpDir('ovnts-ui-term');
  const dbs = await startOvnDatabases(tmp.path, 'ovnts');
  const pidfile = join(tmp.path, 'ui.pid');
  let ui: Daemon | undefined;
  const abort = new AbortController();
  try {
    ui = await spawnDaemon(
      OVNTS,
      ['ui', '--listen=127.0.0.1:0', `--ovnnb-db=${dbs.nbRemote}`, `--ovnsb-db=${dbs.sbRemote}`, `--pidfile=${pidfile}`],
      {
        name: 'ovnts ui',
        readyWhen: pidReady(pidfile),
      },
    );
    const port = /serving http:\/\/127\.0\.0\.1:(\d+)\//.exec(ui.output())?.[1];
    assert.ok(port, ui.output());
    const page = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<svg id="topology"/);
    const elk = await fetch(`http://127.0.0.1:${port}/lib/elkjs/elk.bundled.js`);
    assert.equal(elk.status, 200);
    assert.ok((await elk.text()).length > 100_000, 'the layout library is served from node_modules');
    const trace = await fetch(`http://127.0.0.1:${port}/trace`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ microflow: 'inport == "nowhere"' }),
    });
    assert.equal(trace.status, 200);
    assert.deepEqual(await trace.json(), {
      microflow: 'inport == "nowhere"',
      flow: '',
      sections: [],
      detailed: '',
      warnings: ['nowhere: unknown logical port', 'microflow does not specify ingress port'],
    });
    const refused = await fetch(`http://127.0.0.1:${port}/trace`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(refused.status, 400);

    const events = await fetch(`http://127.0.0.1:${port}/events`, { signal: abort.signal });
    const reader = (events.body as ReadableStream<Uint8Array>).getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.match(first, /^event: topology\nid: 0\ndata: \{"switches":\[\],"routers":\[\],"links":\[\],"chassis":\[\]\}\n\n$/);
    const t0 = Date.now();
    ui.process.kill('SIGTERM');
    await ui.exited;
    // As every daemon now leaves on SIGTERM (src/cli/daemon.ts): killed by the signal once stopped, as the OVS daemons are.
    assert.equal(ui.process.signalCode, 'SIGTERM', ui.output());
    assert.ok(Date.now() - t0 < 3000, `stopped in ${Date.now() - t0} ms`);
    assert.equal(existsSync(pidfile), false, 'the pid file goes with the process');
    assert.equal((await reader.read()).done, true, 'the event stream was ended');
  } finally {
    abort.abort();
    await ui?.stop();
    await dbs.stop();
    tmp.cleanup();
  }
});

test('ovnts up serves the page on 127.0.0.1:8080; a taken port is one log line; --no-ui serves none', { timeout: 120_000 }, async () => {
  const id = runId();
  const tmp = tmpDir('ovnts-up-ui');
  const ns = await createNetns(`${id}-ui`);
  const ups: Daemon[] = [];
  const start = async (name: string, extra: string[]): Promise<{ daemon: Daemon; log: string }> => {
    const dir = join(tmp.path, name);
    mkdirSync(dir);
    const pidfile = join(dir, 'up.pid');
    const log = join(dir, 'up.log');
    const args = [
      'up',
      `--rundir=${dir}`,
      `--dbdir=${dir}`,
      '--no-controller',
      '--no-ipam',
      `--pidfile=${pidfile}`,
      `--log-file=${log}`,
      ...extra,
    ];
    const daemon = await spawnDaemon('ip', ['netns', 'exec', ns, OVNTS, ...args], {
      name: `ovnts up (${name})`,
      readyWhen: pidReady(pidfile),
    });
    ups.push(daemon);
    return { daemon, log };
  };
  const get = (path: string): Promise<{ code: number | null; stdout: string }> =>
    nsRun(ns, 'curl', ['-s', '-f', '--max-time', '5', `http://127.0.0.1:8080${path}`]);
  try {
    const first = await start('first', []);
    assert.match(readFileSync(first.log, 'utf8'), /running: .*, topology page http:\/\/127\.0\.0\.1:8080\//);
    const page = await get('/');
    assert.equal(page.code, 0);
    assert.match(page.stdout, /<svg id="topology"/);
    const topo = await get('/topology');
    assert.deepEqual(JSON.parse(topo.stdout), { seq: 0, topology: { switches: [], routers: [], links: [], chassis: [] } });

    const second = await start('second', []);
    const lines = readFileSync(second.log, 'utf8').split('\n');
    const inUse = lines.filter((l) => /8080/.test(l));
    assert.equal(inUse.length, 1, lines.join('\n'));
    assert.match(inUse[0]!, /\|ui\|.*127\.0\.0\.1:8080 is in use; the topology page is not served \(give --ui=ADDR:PORT or --no-ui\)$/);
    assert.equal(second.daemon.running(), true);
    assert.doesNotMatch(lines.find((l) => l.includes('running:')) ?? '', /topology page/);

    // An asked-for address must work: --ui on the taken port is a start-up error.
    const dir = join(tmp.path, 'third');
    mkdirSync(dir);
    const third = await run('ip', [
      'netns',
      'exec',
      ns,
      OVNTS,
      'up',
      `--rundir=${dir}`,
      `--dbdir=${dir}`,
      '--no-controller',
      '--no-ipam',
      '--ui=127.0.0.1:8080',
    ]);
    assert.equal(third.code, 1);
    assert.match(third.stderr, /^ovnts up: --ui=127\.0\.0\.1:8080: .*EADDRINUSE.*$/m);
    assert.doesNotMatch(third.stderr, /\|ui\|/, 'the page says nothing but the error');

    for (const u of ups.splice(0)) await u.stop();
    const off = await start('off', ['--no-ui']);
    assert.doesNotMatch(readFileSync(off.log, 'utf8'), /topology page|\|ui\|/);
    assert.notEqual((await get('/')).code, 0, 'nothing listens on 8080 with --no-ui');
  } finally {
    for (const u of ups) await u.stop();
    tmp.cleanup();
  }
});
