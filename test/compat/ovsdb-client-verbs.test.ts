/**
 * The real `ovsdb-client`, every verb, against the real ovsdb-server and
 * against `ovnts ovsdb-server` on the same work: outputs, errors and exit
 * statuses must be the same once UUIDs (and the servers' own paths) are
 * normalised. Long-running verbs (monitor, monitor-cond, monitor-cond-since,
 * lock, steal) are stopped once their output settles after a change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bothServers, REPO, type RunningServer } from '../helpers/ovsdb-servers.js';
import { run, waitFor } from '../helpers/proc.js';
import { normalizeUuids } from '../helpers/normalize.js';

const SEM_SCHEMA = join(REPO, 'test', 'fixtures', 'ovsdb', 'semantics.ovsschema');
const DB = 'Semantics';
const servers = bothServers([SEM_SCHEMA]);

function norm(s: RunningServer, text: string): string {
  return normalizeUuids(text.replaceAll(s.dir, 'DIR').replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z\|\d+\|/gm, ''));
}

async function client(s: RunningServer, args: readonly string[], input?: string): Promise<string> {
  const withRemote = args.map((a) => (a === 'REMOTE' ? s.remote : a));
  const r = await run(
    'ovsdb-client',
    withRemote[0]?.startsWith('--timeout') === true ? withRemote : ['--timeout=10', ...withRemote],
    input === undefined ? { timeoutMs: 15000 } : { timeoutMs: 15000, input },
  );
  return norm(
    s,
    `${r.code}\n${r.stdout}\n${r.stderr
      .split('\n')
      .filter((l) => !/reconnect\|INFO/.test(l))
      .join('\n')}`,
  );
}

async function same(args: readonly string[], input?: string): Promise<string> {
  const [a, b] = await Promise.all([client(servers.real, args, input), client(servers.ovnts, args, input)]);
  assert.equal(b, a, args.join(' '));
  return a;
}

/** Runs a verb that keeps running; `poke` makes a change once it has printed; stops it when output settles. */
async function streaming(s: RunningServer, args: readonly string[], poke: () => Promise<void>): Promise<string> {
  const child = spawn(
    'ovsdb-client',
    args.map((a) => (a === 'REMOTE' ? s.remote : a)),
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  try {
    await waitFor(() => out.length > 0, { what: `${args.join(' ')} first output`, timeoutMs: 10000 });
    const before = out.length;
    await poke();
    await waitFor(() => out.length > before, { what: `${args.join(' ')} update`, timeoutMs: 10000 });
    // Settle: no more output for a moment.
    let last = -1;
    await waitFor(
      async () => {
        const n = out.length;
        const stable = n === last;
        last = n;
        await new Promise((r) => setTimeout(r, 150));
        return stable;
      },
      { what: 'settle', timeoutMs: 10000 },
    );
  } finally {
    child.kill('SIGTERM');
  }
  return norm(s, out);
}

const tx = (...ops: unknown[]): string => JSON.stringify([DB, ...ops]);

test('list-dbs, get-schema, get-schema-version, list-tables, list-columns', async () => {
  await same(['list-dbs', 'REMOTE']);
  await same(['get-schema', 'REMOTE', DB]);
  await same(['get-schema-version', 'REMOTE', DB]);
  await same(['get-schema-cksum', 'REMOTE', DB]);
  await same(['list-tables', 'REMOTE', DB]);
  await same(['list-columns', 'REMOTE', DB]);
  await same(['list-columns', 'REMOTE', DB, 'Root']);
  await same(['list-columns', 'REMOTE', DB, 'Nope']);
  await same(['get-schema', 'REMOTE', 'Nope']);
});

test('transact, query, dump', async () => {
  await same([
    'transact',
    'REMOTE',
    tx(
      { op: 'insert', table: 'Root', row: { name: 'r1', i: 5, tags: ['set', ['x', 'y']], kv: ['map', [['k', 1]]] } },
      { op: 'insert', table: 'Pair', row: { a: 'p', b: 2 } },
    ),
  ]);
  await same(['query', 'REMOTE', tx({ op: 'select', table: 'Root', where: [], columns: ['name', 'i', 'tags', 'kv'] })]);
  await same(['query', 'REMOTE', tx({ op: 'insert', table: 'Root', row: { name: 'never' } })]);
  await same(['dump', 'REMOTE', DB]);
  await same(['dump', 'REMOTE', DB, 'Root', 'name', 'i']);
  await same(['--format=json', 'dump', 'REMOTE', DB, 'Pair']);
  await same(['--format=csv', '--data=bare', 'dump', 'REMOTE', DB, 'Root', 'name', 'tags']);
});

test('monitor (every column), monitor-cond, monitor-cond-since print the same', async () => {
  const change = (s: RunningServer, n: number) => async (): Promise<void> => {
    await client(s, ['transact', 'REMOTE', tx({ op: 'insert', table: 'Pair', row: { a: `m${n}`, b: n } })]);
    await client(s, ['transact', 'REMOTE', tx({ op: 'update', table: 'Pair', where: [['a', '==', `m${n}`]], row: { b: n + 100 } })]);
    await client(s, ['transact', 'REMOTE', tx({ op: 'delete', table: 'Pair', where: [['a', '==', `m${n}`]] })]);
  };
  let n = 0;
  for (const args of [
    ['monitor', 'REMOTE', DB, 'Pair'],
    ['monitor', 'REMOTE', DB, 'Pair', 'a', '_version'],
    ['--format=json', 'monitor', 'REMOTE', DB, 'Pair'],
    ['monitor-cond', 'REMOTE', DB, '[["b", ">", 0]]', 'Pair'],
    ['monitor-cond-since', 'REMOTE', DB, '[["b", ">", 0]]', 'Pair'],
    ['monitor', 'REMOTE', DB, 'ALL'],
  ]) {
    n++;
    const a = await streaming(servers.real, args, change(servers.real, n));
    const b = await streaming(servers.ovnts, args, change(servers.ovnts, n));
    assert.equal(b, a, args.join(' '));
  }
});

test('lock, steal, unlock', async () => {
  for (const verb of ['lock', 'steal']) {
    const outs: string[] = [];
    for (const s of [servers.real, servers.ovnts]) {
      outs.push(
        await streaming(s, [verb, 'REMOTE', 'L1'], async () => {
          await streaming(s, ['steal', 'REMOTE', 'L1'], async () => undefined).catch(() => undefined);
        }).catch((e: unknown) => `no second output: ${String((e as Error).message).slice(0, 20)}`),
      );
    }
    assert.equal(outs[1], outs[0], verb);
  }
  // `ovsdb-client unlock` on a connection that holds nothing gets no reply from
  // ovsdb-server 3.1 (the client times out); ovnts answers {} as RFC 7047 4.1.10 says.
  const real = await client(servers.real, ['--timeout=2', 'unlock', 'REMOTE', 'L1']);
  assert.match(real, /^null\n\n/);
});

test('backup, restore, needs-conversion, convert, wait', async () => {
  for (const s of [servers.real, servers.ovnts]) {
    await client(s, ['transact', 'REMOTE', tx({ op: 'insert', table: 'Root', row: { name: 'kept', nums: ['set', [1, 2]] } })]);
  }
  const backups: string[] = [];
  for (const s of [servers.real, servers.ovnts]) {
    const r = await run('ovsdb-client', ['backup', s.remote, DB], { timeoutMs: 15000 });
    assert.equal(r.code, 0, r.stderr);
    writeFileSync(join(s.dir, 'backup.db'), r.stdout);
    // The file is a database file: the real ovsdb-tool reads it.
    const q = await run('ovsdb-tool', [
      'query',
      join(s.dir, 'backup.db'),
      tx({ op: 'select', table: 'Root', where: [['name', '==', 'kept']], columns: ['name', 'nums'] }),
    ]);
    backups.push(q.stdout);
  }
  assert.equal(backups[1], backups[0]);
  // Each server restores the other's backup.
  const [ra, rb] = await Promise.all([
    client(servers.real, ['restore', 'REMOTE', DB], readFileSync(join(servers.ovnts.dir, 'backup.db'), 'utf8')),
    client(servers.ovnts, ['restore', 'REMOTE', DB], readFileSync(join(servers.real.dir, 'backup.db'), 'utf8')),
  ]);
  assert.equal(rb, ra);
  await same(['query', 'REMOTE', tx({ op: 'select', table: 'Root', where: [['name', '==', 'kept']], columns: ['name', 'nums'] })]);
  await same(['needs-conversion', 'REMOTE', SEM_SCHEMA]);
  const schema = JSON.parse(readFileSync(SEM_SCHEMA, 'utf8')) as {
    version: string;
    tables: Record<string, { columns: Record<string, unknown> }>;
  };
  schema.version = '1.3.0';
  (schema.tables['Root'] as { columns: Record<string, unknown> }).columns['extra'] = { type: { key: 'string', min: 0, max: 1 } };
  delete (schema.tables['Root'] as { columns: Record<string, unknown> }).columns['r'];
  const newSchema = join(servers.ovnts.dir, 'new.ovsschema');
  writeFileSync(newSchema, JSON.stringify(schema));
  await same(['needs-conversion', 'REMOTE', newSchema]);
  await same(['convert', 'REMOTE', newSchema]);
  await same(['get-schema-version', 'REMOTE', DB]);
  await same(['query', 'REMOTE', tx({ op: 'select', table: 'Root', where: [['name', '==', 'kept']], columns: ['name', 'nums', 'extra'] })]);
  await same(['wait', 'REMOTE', DB, 'connected']);
  await same(['wait', 'REMOTE', DB, 'added']);
});
