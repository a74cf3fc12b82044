/**
 * The database file format against the real OVS 3.1 tools: a file written by
 * ovnts opens in ovsdb-tool and ovsdb-server, and a file written by the real
 * ovsdb-server (diff records, online compaction) opens in ovnts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseLog, encodeRecord, type LogRecord } from '../../src/ovsdb/storage.js';
import { SCHEMA_FILES, loadSchemaJson } from '../../src/ovsdb/schema-files.js';
import { waitForSocket, REPO } from '../helpers/ovsdb-servers.js';

const NB_JSON = loadSchemaJson(SCHEMA_FILES.OVN_Northbound);
const ENV = { ...process.env, TZ: 'UTC' };

const U_SW0 = '11111111-1111-4111-8111-111111111111';
const U_SW1 = '22222222-2222-4222-8222-222222222222';
const U_P1 = '33333333-3333-4333-8333-333333333333';
const U_NB = '44444444-4444-4444-8444-444444444444';

interface RealServer {
  readonly child: ChildProcess;
  readonly remote: string;
  readonly ctl: string;
  stop(): Promise<void>;
}

/** Starts the real ovsdb-server in the foreground on `db`, inside `dir`. */
async function startReal(dir: string, db: string): Promise<RealServer> {
  const sock = join(dir, 'db.sock');
  const ctl = join(dir, 'ctl');
  const stderr: string[] = [];
  const child = spawn(
    'ovsdb-server',
    [`--remote=punix:${sock}`, `--unixctl=${ctl}`, '--no-chdir', `--log-file=${join(dir, 'server.log')}`, db],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: ENV,
    },
  );
  child.stderr?.on('data', (b: Buffer) => stderr.push(b.toString()));
  const exited = new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
  try {
    await waitForSocket(sock, child);
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`${(e as Error).message}: ${stderr.join('')}`);
  }
  return {
    child,
    remote: `unix:${sock}`,
    ctl,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', env: ENV });
}

function transact(remote: string, ...ops: unknown[]): unknown[] {
  const out = JSON.parse(run('ovsdb-client', ['transact', remote, JSON.stringify(['OVN_Northbound', ...ops])])) as unknown[];
  for (const r of out) assert.ok(r === null || (typeof r === 'object' && !('error' in r)), `transaction failed: ${JSON.stringify(out)}`);
  return out;
}

/** `ovsdb-client dump` of one table as rows keyed by column name. */
function dump(remote: string, table: string, ...columns: string[]): Record<string, unknown>[] {
  const out = JSON.parse(run('ovsdb-client', ['-f', 'json', 'dump', remote, 'OVN_Northbound', table, ...columns])) as {
    headings: string[];
    data: unknown[][];
  };
  return out.data.map((row) => Object.fromEntries(out.headings.map((h, i) => [h, row[i]])));
}

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ovnts-storage-real-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** What `ovsdb-tool show-log -m` says about each record: date, comment and per-row operations. */
interface ShownRecord {
  date: string | undefined;
  comment: string | undefined;
  rows: string[];
}

function parseShowLog(text: string): ShownRecord[] {
  const out: ShownRecord[] = [];
  let rows: string[] = [];
  for (const line of text.split('\n')) {
    const rec = /^record (\d+): (?:(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}))?(?: ?"(.*)")?/.exec(line);
    if (rec !== null) {
      rows = [];
      out.push({ date: rec[2], comment: rec[3], rows });
      continue;
    }
    const row = /^ {2}table (\S+) (insert row|row) (?:"[^"]*" )?\(?([0-9a-f]{8})\)?/.exec(line);
    if (row !== null) {
      rows.push(`${row[1]} ${row[3]} ${row[2] === 'insert row' ? 'insert' : 'modify'}`);
      continue;
    }
    if (line === '    delete row') {
      const last = rows.pop() as string;
      rows.push(last.replace(/ modify$/, ' delete'));
    }
  }
  return out;
}

/** The same summary, computed from records that DatabaseLog.open returned. */
function summarize(records: LogRecord[]): ShownRecord[] {
  const seen = new Set<string>();
  return records.map((r) => {
    const rows: string[] = [];
    for (const [table, v] of Object.entries(r)) {
      if (table.startsWith('_')) continue;
      for (const [uuid, row] of Object.entries(v as Record<string, unknown>)) {
        const op = row === null ? 'delete' : seen.has(uuid) ? 'modify' : 'insert';
        if (row === null) seen.delete(uuid);
        else seen.add(uuid);
        rows.push(`${table} ${uuid.slice(0, 8)} ${op}`);
      }
    }
    const date = typeof r['_date'] === 'number' ? new Date(r['_date']).toISOString().replace('T', ' ').replace('Z', '') : undefined;
    const comment = typeof r['_comment'] === 'string' ? r['_comment'] : undefined;
    return { date, comment, rows };
  });
}

function sortRows(s: ShownRecord[]): ShownRecord[] {
  return s.map((r) => ({ ...r, rows: [...r.rows].sort() }));
}

test(
  'a file written by ovnts opens in the real ovsdb-tool and ovsdb-server',
  withDir(async (dir) => {
    const path = join(dir, 'nb.db');
    const log = await DatabaseLog.create(path, NB_JSON);
    // Inserts carry their non-default columns, in RFC 7047 notation.
    await log.append({
      Logical_Switch: {
        [U_SW0]: {
          name: 'sw0',
          ports: ['set', [['uuid', U_P1]]],
          external_ids: [
            'map',
            [
              ['a', '1'],
              ['b', '2'],
            ],
          ],
        },
        [U_SW1]: { name: 'sw1', acls: ['set', []], other_config: ['map', []] },
      },
      Logical_Switch_Port: { [U_P1]: { name: 'p1', addresses: ['set', ['router', 'unknown']] } },
      NB_Global: { [U_NB]: {} },
      _date: 1700000000000,
      _comment: 'ovnts: insert',
    });
    // Without "_is_diff" a column holds its full new value.
    await log.append({
      Logical_Switch: {
        [U_SW0]: {
          external_ids: [
            'map',
            [
              ['a', '1'],
              ['c', '3'],
            ],
          ],
        },
      },
      _date: 1700000001000,
    });
    await log.append({ Logical_Switch: { [U_SW1]: null }, _date: 1700000002000, _comment: 'ovnts: delete' });
    // With "_is_diff" (what ovsdb-server writes): a map or set column holds
    // the elements to toggle, a column with at most one value its new value.
    await log.append({
      Logical_Switch: {
        [U_SW0]: {
          external_ids: [
            'map',
            [
              ['a', '1'],
              ['d', '4'],
            ],
          ],
        },
      },
      Logical_Switch_Port: { [U_P1]: { addresses: ['set', ['unknown', 'dynamic']], tag_request: 7 } },
      _date: 1700000003000,
      _is_diff: true,
    });
    // A diff of a column with at most one value replaces it (7 -> 9), it does not toggle.
    await log.append({ Logical_Switch_Port: { [U_P1]: { tag_request: 9, enabled: false } }, _date: 1700000004000, _is_diff: true });
    await log.close();

    const shown = run('ovsdb-tool', ['show-log', '-m', path]);
    assert.deepEqual(sortRows(parseShowLog(shown).slice(1)), [
      {
        date: '2023-11-14 22:13:20.000',
        comment: 'ovnts: insert',
        rows: [
          `Logical_Switch 11111111 insert`,
          `Logical_Switch 22222222 insert`,
          `Logical_Switch_Port 33333333 insert`,
          `NB_Global 44444444 insert`,
        ],
      },
      { date: '2023-11-14 22:13:21.000', comment: undefined, rows: [`Logical_Switch 11111111 modify`] },
      { date: '2023-11-14 22:13:22.000', comment: 'ovnts: delete', rows: [`Logical_Switch 22222222 delete`] },
      {
        date: '2023-11-14 22:13:23.000',
        comment: undefined,
        rows: [`Logical_Switch 11111111 modify`, `Logical_Switch_Port 33333333 modify`],
      },
      { date: '2023-11-14 22:13:24.000', comment: undefined, rows: [`Logical_Switch_Port 33333333 modify`] },
    ]);
    assert.equal(run('ovsdb-tool', ['db-name', path]).trim(), 'OVN_Northbound');

    const server = await startReal(dir, path);
    try {
      assert.deepEqual(dump(server.remote, 'Logical_Switch', '_uuid', 'name', 'external_ids', 'ports'), [
        {
          _uuid: ['uuid', U_SW0],
          name: 'sw0',
          external_ids: [
            'map',
            [
              ['c', '3'],
              ['d', '4'],
            ],
          ],
          ports: ['uuid', U_P1],
        },
      ]);
      assert.deepEqual(dump(server.remote, 'Logical_Switch_Port', 'name', 'addresses', 'tag_request', 'enabled'), [
        { name: 'p1', addresses: ['set', ['dynamic', 'router']], tag_request: 9, enabled: false },
      ]);
      assert.equal(dump(server.remote, 'NB_Global', '_uuid')[0]?.['_uuid']?.toString(), ['uuid', U_NB].toString());
      // The real server goes on appending to the ovnts file.
      transact(server.remote, { op: 'insert', table: 'Logical_Switch', row: { name: 'sw2' } });
    } finally {
      await server.stop();
    }
    const { log: again, records } = await DatabaseLog.open(path);
    await again.close();
    assert.equal(records.length, 6);
    assert.equal(records[5]?.['_is_diff'], true);
  }),
);

test(
  'a file written by the real ovsdb-server, with diffs and online compaction, opens in ovnts',
  withDir(async (dir) => {
    const path = join(dir, 'nb.db');
    run('ovsdb-tool', ['create', path, SCHEMA_FILES.OVN_Northbound]);
    const server = await startReal(dir, path);
    const work = (): void => {
      const [sw] = transact(
        server.remote,
        {
          op: 'insert',
          table: 'Logical_Switch_Port',
          row: { name: 'p1', addresses: ['set', ['00:00:00:00:00:01 10.0.0.1', 'router']] },
          'uuid-name': 'p',
        },
        {
          op: 'insert',
          table: 'Logical_Switch',
          row: {
            name: 'sw0',
            ports: ['named-uuid', 'p'],
            external_ids: [
              'map',
              [
                ['a', '1'],
                ['b', '2'],
              ],
            ],
          },
        },
        { op: 'comment', comment: 'two rows' },
      ) as { uuid: [string, string] }[];
      assert.ok(sw !== undefined);
      const where = [['name', '==', 'sw0']];
      transact(server.remote, {
        op: 'update',
        table: 'Logical_Switch',
        where,
        row: {
          external_ids: [
            'map',
            [
              ['a', '9'],
              ['c', '3'],
            ],
          ],
        },
      });
      transact(server.remote, {
        op: 'mutate',
        table: 'Logical_Switch',
        where,
        mutations: [
          ['external_ids', 'insert', ['map', [['d', '4']]]],
          ['external_ids', 'delete', ['set', ['a']]],
        ],
      });
      transact(server.remote, {
        op: 'mutate',
        table: 'Logical_Switch_Port',
        where: [['name', '==', 'p1']],
        mutations: [
          ['addresses', 'delete', ['set', ['router']]],
          ['addresses', 'insert', ['set', ['dynamic']]],
          ['tag_request', 'insert', ['set', [5]]],
        ],
      });
      transact(server.remote, {
        op: 'update',
        table: 'Logical_Switch_Port',
        where: [['name', '==', 'p1']],
        row: { enabled: false, tag_request: ['set', []] },
      });
      transact(server.remote, { op: 'insert', table: 'NB_Global', row: {} });
    };
    try {
      work();
      // Online compaction: the file becomes schema + one snapshot record.
      run('ovs-appctl', ['-t', server.ctl, 'ovsdb-server/compact']);
      const compacted = readFileSync(path);
      const { log: c, records: snap } = await DatabaseLog.open(path);
      await c.close();
      assert.equal(snap.length, 1);
      assert.equal(snap[0]?.['_comment'], 'compacting database online');
      assert.deepEqual(readFileSync(path), compacted);
      // More work after compaction, including a delete.
      transact(server.remote, { op: 'delete', table: 'NB_Global', where: [] });
      transact(server.remote, { op: 'update', table: 'Logical_Switch', where: [['name', '==', 'sw0']], row: { ports: ['set', []] } });
    } finally {
      await server.stop();
    }

    const msgs: string[] = [];
    const { log, schema, records } = await DatabaseLog.open(path, { log: (m) => msgs.push(m) });
    await log.close();
    assert.deepEqual(msgs, []);
    assert.equal((schema as { name: string }).name, 'OVN_Northbound');
    // Every record re-encodes to exactly the bytes in the file: the same
    // header, length and SHA-1 as the real server computed.
    const file = readFileSync(path);
    assert.deepEqual(
      Buffer.concat(records.map(encodeRecord)),
      file.subarray(file.length - Buffer.concat(records.map(encodeRecord)).length),
    );
    const lines = file
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== '');
    assert.equal(lines.length, 2 * (records.length + 1));
    records.forEach((r, i) => assert.deepEqual(r, JSON.parse(lines[2 * i + 3] as string)));

    // The records are what show-log shows: same count, dates, comments and row operations.
    const shown = parseShowLog(run('ovsdb-tool', ['show-log', '-m', path]));
    assert.equal(shown.length, records.length + 1);
    assert.deepEqual(sortRows(summarize(records)), sortRows(shown.slice(1)));
    // The real server writes modifications as diffs.
    assert.ok(records.slice(1).every((r) => r['_is_diff'] === true));
    assert.deepEqual(
      records[1]?.['NB_Global'],
      Object.fromEntries([[Object.keys(records[0]?.['NB_Global'] as object)[0] as string, null]]),
    );
  }),
);

const OVNTS = join(REPO, 'bin', 'ovnts');

/** Runs a command, returning its exit status, stdout and stderr. */
function runAny(cmd: string, args: string[], cwd: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: ENV, cwd });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test(
  'ovnts ovsdb-tool agrees with the real ovsdb-tool: create, db-*/schema-* queries, errors, compact',
  withDir(async (dir) => {
    const nb = SCHEMA_FILES.OVN_Northbound;
    // create: each tool reads the other's file.
    assert.equal(runAny(OVNTS, ['ovsdb-tool', 'create', 'ours.db', nb], dir).status, 0);
    assert.equal(runAny('ovsdb-tool', ['create', 'real.db', nb], dir).status, 0);
    for (const cmd of ['db-name', 'db-version', 'db-cksum']) {
      for (const db of ['ours.db', 'real.db']) {
        const a = runAny(OVNTS, ['ovsdb-tool', cmd, db], dir);
        const b = runAny('ovsdb-tool', [cmd, db], dir);
        assert.deepEqual(a, b, `${cmd} ${db}`);
      }
    }
    for (const cmd of ['schema-name', 'schema-version', 'schema-cksum']) {
      assert.deepEqual(runAny(OVNTS, ['ovsdb-tool', cmd, nb], dir), runAny('ovsdb-tool', [cmd, nb], dir), cmd);
    }
    assert.match(runAny('ovsdb-tool', ['show-log', 'ours.db'], dir).stdout, /^record 0: "OVN_Northbound" schema, version="7\.0\.0"/);

    // Errors: one line on stderr, the real tool's words, exit status 1.
    const exists = runAny(OVNTS, ['ovsdb-tool', 'create', 'ours.db', nb], dir);
    assert.deepEqual(exists, runAny('ovsdb-tool', ['create', 'ours.db', nb], dir));
    assert.equal(exists.stderr, 'ovsdb-tool: I/O error: ours.db: create failed (File exists)\n');
    writeFileSync(join(dir, 'bad.ovsschema'), '{"name":"x","tables":{"T":{"columns":{"a":{"type":"foo"}}}}}');
    const bad = runAny(OVNTS, ['ovsdb-tool', 'create', 'bad.db', 'bad.ovsschema'], dir);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^ovsdb-tool: syntax error: failed to parse "bad\.ovsschema" as ovsdb schema: .*foo.*\n$/);
    assert.ok(!existsSync(join(dir, 'bad.db')));
    const missing = runAny(OVNTS, ['ovsdb-tool', 'create', 'm.db', 'missing.ovsschema'], dir);
    assert.deepEqual(missing, runAny('ovsdb-tool', ['create', 'm.db', 'missing.ovsschema'], dir));
    const usage = runAny(OVNTS, ['ovsdb-tool', 'create', 'only.db'], dir);
    assert.deepEqual([usage.status, usage.stderr], [1, "ovsdb-tool: 'create' command requires at least 2 arguments\n"]);
    run('ovsdb-tool', ['create-cluster', join(dir, 'c.db'), nb, `unix:${join(dir, 'raft')}`]);
    const clustered = runAny(OVNTS, ['ovsdb-tool', 'compact', 'c.db'], dir);
    assert.equal(clustered.status, 1);
    assert.match(clustered.stderr, /^ovsdb-tool: ovsdb error: c\.db: clustered database file.*\n$/);

    // compact: a real server's file (diffs) compacts to the same contents.
    const server = await startReal(dir, join(dir, 'real.db'));
    try {
      transact(
        server.remote,
        { op: 'insert', table: 'Logical_Switch_Port', row: { name: 'p1', addresses: ['set', ['router']] }, 'uuid-name': 'p' },
        { op: 'insert', table: 'Logical_Switch', row: { name: 'sw0', ports: ['named-uuid', 'p'], external_ids: ['map', [['a', '1']]] } },
        { op: 'insert', table: 'Logical_Switch', row: { name: 'sw1' } },
      );
      transact(server.remote, {
        op: 'mutate',
        table: 'Logical_Switch',
        where: [['name', '==', 'sw0']],
        mutations: [['external_ids', 'insert', ['map', [['b', '2']]]]],
      });
      transact(server.remote, {
        op: 'update',
        table: 'Logical_Switch_Port',
        where: [],
        row: { addresses: ['set', ['dynamic']], tag_request: 3 },
      });
      transact(server.remote, { op: 'delete', table: 'Logical_Switch', where: [['name', '==', 'sw1']] });
    } finally {
      await server.stop();
    }
    const query = JSON.stringify([
      'OVN_Northbound',
      { op: 'select', table: 'Logical_Switch', where: [], columns: ['_uuid', 'name', 'external_ids', 'ports'] },
      { op: 'select', table: 'Logical_Switch_Port', where: [], columns: ['_uuid', 'name', 'addresses', 'tag_request'] },
    ]);
    const before = run('ovsdb-tool', ['query', join(dir, 'real.db'), query]);
    const compacted = runAny(OVNTS, ['ovsdb-tool', 'compact', 'real.db'], dir);
    assert.deepEqual([compacted.status, compacted.stderr], [0, '']);
    assert.equal(run('ovsdb-tool', ['query', join(dir, 'real.db'), query]), before);
    const shown = run('ovsdb-tool', ['show-log', join(dir, 'real.db')]);
    assert.equal(shown.match(/^record \d+:/gm)?.length, 2);
  }),
);
