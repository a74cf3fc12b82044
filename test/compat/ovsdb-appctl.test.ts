/**
 * The real `ovs-appctl -t SOCKET` drives the control socket of the real
 * ovsdb-server and of `ovnts ovsdb-server` with the same commands; the
 * outputs, error texts and exit statuses must be the same. Also: the
 * "listening on port N" line for ptcp:0, remotes read from the database and
 * followed as it changes, --run, and the lock file that keeps a second server
 * off a database file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bothServers, OVNTS, REPO, waitForSocket, type RunningServer } from '../helpers/ovsdb-servers.js';
import { run, waitFor } from '../helpers/proc.js';
import { runSteps } from '../helpers/ovsdb-diff.js';
import { socketAccepts } from '../../src/lib/socket-probe.js';

const SEM_SCHEMA = join(REPO, 'test', 'fixtures', 'ovsdb', 'semantics.ovsschema');
const servers = bothServers([SEM_SCHEMA]);

async function appctl(s: RunningServer, ...args: string[]): Promise<string> {
  const r = await run('ovs-appctl', ['-t', s.ctlPath, ...args], { timeoutMs: 10000 });
  // The socket path and the server's directory differ by design.
  return `${r.code}|${r.stdout}|${r.stderr}`.replaceAll(s.ctlPath, 'CTL').replaceAll(s.dir, 'DIR');
}

async function bothSay(...args: string[]): Promise<string> {
  const [a, b] = await Promise.all([appctl(servers.real, ...args), appctl(servers.ovnts, ...args)]);
  assert.equal(b, a, args.join(' '));
  return a;
}

test('the control commands answer as ovsdb-server does', async () => {
  for (const cmd of [
    ['ovsdb-server/list-dbs'],
    ['ovsdb-server/list-dbs', 'extra'],
    ['ovsdb-server/list-remotes'],
    ['ovsdb-server/sync-status'],
    ['ovsdb-server/add-remote', 'ptcp:0:127.0.0.1'],
    ['ovsdb-server/list-remotes'],
    ['ovsdb-server/remove-remote', 'ptcp:0:127.0.0.1'],
    ['ovsdb-server/remove-remote', 'ptcp:0:127.0.0.1'],
    ['ovsdb-server/list-remotes'],
    ['ovsdb-server/compact'],
    ['ovsdb-server/compact', 'Semantics'],
    ['ovsdb-server/compact', 'Nope'],
    ['ovsdb-server/add-db', '/nonexistent-dir/x.db'],
    ['ovsdb-server/remove-db', 'Nope'],
    ['ovsdb-server/add-remote', 'db:Nope,Root,tags'],
    ['ovsdb-server/add-remote', 'db:Semantics,Root,nope'],
    ['vlog/set', 'bogus'],
    ['vlog/set', 'jsonrpc:file:info'],
    ['exit', 'now'],
  ]) {
    await bothSay(...cmd);
  }
  // memory/show's numbers are each implementation's own; the counters are the same.
  const keys = (text: string): string =>
    text
      .split('|')[1]
      ?.trim()
      .split(' ')
      .map((kv) => kv.split(':')[0])
      .join(' ') ?? '';
  const [a, b] = await Promise.all([appctl(servers.real, 'memory/show'), appctl(servers.ovnts, 'memory/show')]);
  assert.equal(keys(b), keys(a));
});

test('ptcp:0 is logged as "listening on port N", and that port serves', async () => {
  for (const s of [servers.real, servers.ovnts]) {
    const ports = (): string[] =>
      [...readFileSync(join(s.dir, 'server.log'), 'utf8').matchAll(/\|0:127\.0\.0\.1: listening on port (\d+)/g)].map(
        (m) => m[1] as string,
      );
    const before = ports().length;
    assert.equal(await appctl(s, 'ovsdb-server/add-remote', 'ptcp:0:127.0.0.1'), '0||');
    const port = await waitFor(() => ports()[before], { what: `${s.kind} port line` });
    const r = await run('ovsdb-client', ['--timeout=10', 'list-dbs', `tcp:127.0.0.1:${port}`]);
    assert.equal(r.stdout, 'Semantics\n_Server\n', s.kind);
    assert.equal(await appctl(s, 'ovsdb-server/remove-remote', 'ptcp:0:127.0.0.1'), '0||');
  }
});

test('add-db and remove-db change what is served', async () => {
  for (const s of [servers.real, servers.ovnts]) {
    const extra = join(s.dir, 'extra.db');
    execFileSync('ovsdb-tool', ['create', extra, join(REPO, 'schemas', 'ovn-nb.ovsschema')]);
    assert.equal(await appctl(s, 'ovsdb-server/add-db', extra), '0||');
    assert.equal(
      await appctl(s, 'ovsdb-server/list-dbs'),
      '0|OVN_Northbound\nSemantics\n_Server\n|'.replace(
        'OVN_Northbound\nSemantics',
        s.kind === 'real' ? 'OVN_Northbound\nSemantics' : 'Semantics\nOVN_Northbound',
      ),
    );
    assert.match(await appctl(s, 'ovsdb-server/add-db', extra), /^2\|\|/);
    assert.equal(await appctl(s, 'ovsdb-server/remove-db', 'OVN_Northbound'), '0||');
    const r = await run('ovsdb-client', ['--timeout=10', 'list-dbs', `unix:${s.sockPath}`]);
    assert.equal(r.stdout, 'Semantics\n_Server\n', s.kind);
  }
});

test('remotes read from the database follow it (--remote=db:DB,TABLE,COLUMN)', async () => {
  for (const s of [servers.real, servers.ovnts]) {
    const dyn = join(s.dir, 'dyn.sock');
    assert.equal(await appctl(s, 'ovsdb-server/add-remote', 'db:Semantics,Root,tags'), '0||');
    await runSteps(s.sockPath, [
      ['transact', ['Semantics', { op: 'insert', table: 'Root', row: { name: 'conn', tags: ['set', [`punix:${dyn}`]] } }]],
    ]);
    await waitForSocket(dyn, s.process);
    const r = await run('ovsdb-client', ['--timeout=10', 'list-dbs', `unix:${dyn}`]);
    assert.equal(r.stdout, 'Semantics\n_Server\n', s.kind);
    await runSteps(s.sockPath, [['transact', ['Semantics', { op: 'delete', table: 'Root', where: [['name', '==', 'conn']] }]]]);
    await waitFor(async () => !(await socketAccepts(dyn)), { what: `${s.kind} stops listening on ${dyn}` });
    assert.equal(await appctl(s, 'ovsdb-server/remove-remote', 'db:Semantics,Root,tags'), '0||');
  }
});

test("a second server on the same database file is refused with ovsdb-server's words", async () => {
  for (const s of [servers.real, servers.ovnts]) {
    const db = s.dbFiles[0] as string;
    const r = await run(
      OVNTS,
      ['ovsdb-server', `--remote=punix:${join(s.dir, 'second.sock')}`, `--unixctl=${join(s.dir, 'second.ctl')}`, db],
      { timeoutMs: 15000 },
    );
    assert.equal(r.code, 1, s.kind);
    assert.equal(
      r.stderr
        .split('\n')
        .filter((l) => l.startsWith('ovsdb-server:'))
        .join('\n'),
      `ovsdb-server: I/O error: ${db}: failed to lock lockfile (Resource temporarily unavailable)`,
    );
  }
});

test('--run runs a command and exits with it, as ovsdb-server', async () => {
  for (const [cmd, pre] of [
    ['ovsdb-server', []],
    [OVNTS, ['ovsdb-server']],
  ] as const) {
    const dir = servers.ovnts.dir;
    const db = join(dir, `run-${pre.length}.db`);
    execFileSync('ovsdb-tool', ['create', db, SEM_SCHEMA]);
    const args = [
      ...pre,
      '--no-chdir',
      `--remote=punix:${join(dir, `run-${pre.length}.sock`)}`,
      `--unixctl=${join(dir, `run-${pre.length}.ctl`)}`,
    ];
    const ok = await run(cmd, [...args, `--run=ovsdb-client list-dbs unix:${join(dir, `run-${pre.length}.sock`)}`, db], {
      timeoutMs: 20000,
    });
    assert.deepEqual([ok.code, ok.stdout], [0, 'Semantics\n_Server\n'], cmd);
    const bad = await run(cmd, [...args, '--run=exit 3', db], { timeoutMs: 20000 });
    assert.equal(bad.code, 1, cmd);
    assert.match(bad.stderr, /ovsdb-server: exit 3: child exited, exit status 3\n$/);
  }
});
