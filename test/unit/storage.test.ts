import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, existsSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import fc from 'fast-check';
import { DatabaseLog, encodeRecord, decodeRecord, scanLog, readSchemaRecord, type LogRecord } from '../../src/ovsdb/storage.js';
import { parseJson } from '../../src/lib/json-int.js';

/** A schema small enough to make every-offset tests quick; the format does not care. */
const SCHEMA = { name: 'T', version: '1.0.0', tables: { t: { columns: { a: { type: 'integer' } } } } };
const rec = (i: number): LogRecord => ({
  t: { [`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`]: { a: i } },
  _date: 1700000000000 + i,
});

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ovnts-storage-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** A file image: the schema record and `n` transaction records, and where each record starts. */
function image(n: number): { buf: Buffer; starts: number[] } {
  const parts = [encodeRecord(SCHEMA)];
  for (let i = 0; i < n; i++) parts.push(encodeRecord(rec(i)));
  const starts: number[] = [];
  let off = 0;
  for (const p of parts) {
    starts.push(off);
    off += p.length;
  }
  return { buf: Buffer.concat(parts), starts };
}

test('encodeRecord: header line, then JSON and a newline; length and SHA-1 cover both', () => {
  assert.equal(
    encodeRecord({}).toString('latin1'),
    // magic    length ("{}\n")  SHA-1 of the 3 bytes "{}\n"
    'OVSDB JSON 3 5f36b2ea290645ee34d943220a14b54ee5ea5be5\n' + '{}\n',
  );
  assert.equal(encodeRecord({ a: [1, 'x'] }).toString('latin1'), 'OVSDB JSON 14 b7d826d7486ec3f6ec260c67682f14f14f412467\n{"a":[1,"x"]}\n');
  // The length counts UTF-8 bytes, not UTF-16 code units.
  const u = encodeRecord({ s: 'é☃' });
  assert.match(u.toString('utf8'), /^OVSDB JSON 14 [0-9a-f]{40}\n\{"s":"é☃"\}\n$/);
});

test('decodeRecord round-trips a table of values', () => {
  const values: unknown[] = [
    {},
    { a: null },
    { _date: 0, _comment: 'a "quoted"\ncomment\\' },
    { big: Number.MAX_SAFE_INTEGER, neg: -1.5e-300 },
    { s: '\u0000\u001f\u2028' },
  ];
  for (const v of values) {
    const buf = encodeRecord(v);
    const r = decodeRecord(buf, 0);
    assert.equal(r.kind, 'record');
    if (r.kind !== 'record') continue;
    assert.deepEqual(r.json, v);
    assert.equal(r.end, buf.length);
  }
});

test('decodeRecord round-trips any JSON object (property)', () => {
  fc.assert(
    fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.nat(64), (v, pad) => {
      const buf = Buffer.concat([Buffer.alloc(pad, 0x20), encodeRecord(v)]);
      const r = decodeRecord(buf, pad);
      assert.equal(r.kind, 'record');
      if (r.kind === 'record') {
        assert.deepEqual(r.json, parseJson(JSON.stringify(v)));
        assert.equal(r.end, buf.length);
      }
    }),
  );
});

test('decodeRecord asks for more bytes at every split of a record, and reads it from a view with an offset', () => {
  const whole = encodeRecord(rec(7));
  for (let cut = 1; cut < whole.length; cut++) {
    const r = decodeRecord(whole.subarray(0, cut), 0);
    assert.equal(r.kind, 'need-more', `cut at ${cut}`);
  }
  // A Buffer that is a slice of a larger ArrayBuffer.
  const big = Buffer.concat([Buffer.from('junk'), whole, Buffer.from('junk')]);
  const view = big.subarray(4, 4 + whole.length);
  const r = decodeRecord(view, 0);
  assert.equal(r.kind, 'record');
  if (r.kind === 'record') assert.deepEqual(r.json, rec(7));
});

test('decodeRecord rejects bad headers, wrong SHA-1 and bad JSON', () => {
  const good = encodeRecord({ x: 1 });
  const cases: [string, Buffer][] = [
    ['bad magic', Buffer.from('OVSDB JSOX 3 5f36b2ea290645ee34d943220a14b54ee5ea5be5\n{}\n')],
    ['short sha', Buffer.from('OVSDB JSON 3 5f36b2ea\n{}\n')],
    ['no header line end', Buffer.concat([Buffer.from('x'.repeat(200)), good])],
    ['sha mismatch', Buffer.from('OVSDB JSON 3 0000000000000000000000000000000000000000\n{}\n')],
    ['not json', Buffer.from('OVSDB JSON 3 51a1545c7984e1b7b7d36c0136d06d0a32b513b8\n{x\n')],
  ];
  for (const [name, buf] of cases) assert.equal(decodeRecord(buf, 0).kind, 'corrupt', name);
  assert.equal(decodeRecord(Buffer.from('OVSDB CLUSTER 3 5f36b2ea290645ee34d943220a14b54ee5ea5be5\n{}\n'), 0).kind, 'clustered');
});

test(
  'create writes the schema record; open returns it; create refuses an existing file',
  withDir(async (dir) => {
    const path = join(dir, 'a.db');
    const log = await DatabaseLog.create(path, SCHEMA);
    assert.equal(log.recordCount, 1);
    assert.equal(log.size, statSync(path).size);
    await log.close();
    assert.deepEqual(readFileSync(path), encodeRecord(SCHEMA));
    await assert.rejects(DatabaseLog.create(path, SCHEMA), /I\/O error: .*a\.db: create failed \(File exists\)/);
    const { log: l2, schema, records } = await DatabaseLog.open(path);
    assert.deepEqual(schema, SCHEMA);
    assert.deepEqual(records, []);
    await l2.close();
    assert.deepEqual(await readSchemaRecord(path), SCHEMA);
  }),
);

test(
  'a torn tail at every byte offset of the last record is reported and truncated',
  withDir(async (dir) => {
    const { buf, starts } = image(3);
    const last = starts[3] as number;
    const path = join(dir, 'torn.db');
    for (let cut = last; cut < buf.length; cut++) {
      writeFileSync(path, buf.subarray(0, cut));
      const msgs: string[] = [];
      const { log, records } = await DatabaseLog.open(path, { log: (m) => msgs.push(m) });
      assert.deepEqual(records, [rec(0), rec(1)], `cut at ${cut}`);
      assert.equal(msgs.length, cut === last ? 0 : 1, `cut at ${cut}: ${msgs.join('; ')}`);
      if (cut > last) assert.match(msgs[0] as string, new RegExp(`truncating to ${last} bytes`));
      assert.equal(statSync(path).size, last);
      assert.equal(log.size, last);
      assert.equal(log.recordCount, 3);
      // The log goes on where the good records end.
      await log.append(rec(9));
      await log.close();
      assert.deepEqual((await reopen(path)).records, [rec(0), rec(1), rec(9)]);
    }
  }),
);

async function reopen(path: string): Promise<{ schema: object; records: LogRecord[] }> {
  const { log, schema, records } = await DatabaseLog.open(path);
  await log.close();
  return { schema, records };
}

test(
  'a flipped byte in the last record is dropped with a log line',
  withDir(async (dir) => {
    const { buf, starts } = image(3);
    const last = starts[3] as number;
    const path = join(dir, 'flip.db');
    for (const at of [buf.length - 3, last + 5, last + 20]) {
      const bad = Buffer.from(buf);
      bad[at] = (bad[at] as number) ^ 0x01;
      writeFileSync(path, bad);
      const msgs: string[] = [];
      const { log, records } = await DatabaseLog.open(path, { log: (m) => msgs.push(m) });
      await log.close();
      assert.deepEqual(records, [rec(0), rec(1)], `flip at ${at}`);
      assert.equal(msgs.length, 1);
      assert.equal(statSync(path).size, last);
    }
    // Body flip: the message names the SHA-1 mismatch like ovsdb-tool does.
    const bad = Buffer.from(buf);
    bad[buf.length - 3] = (bad[buf.length - 3] as number) ^ 0x01;
    writeFileSync(path, bad);
    const msgs: string[] = [];
    await (await DatabaseLog.open(path, { log: (m) => msgs.push(m) })).log.close();
    assert.match(msgs[0] as string, /have SHA-1 hash [0-9a-f]{40} but should have hash [0-9a-f]{40}/);
  }),
);

test(
  'corruption followed by good records is an error and leaves the file alone',
  withDir(async (dir) => {
    const { buf, starts } = image(3);
    const path = join(dir, 'mid.db');
    for (const at of [(starts[2] as number) + 3, (starts[2] as number) + 60, (starts[3] as number) - 2]) {
      const bad = Buffer.from(buf);
      bad[at] = (bad[at] as number) ^ 0x01;
      writeFileSync(path, bad);
      await assert.rejects(DatabaseLog.open(path), /corrupt/, `flip at ${at}`);
      assert.deepEqual(readFileSync(path), bad);
    }
    // A record cut short in the middle (its successor starts inside its declared length).
    const cut = Buffer.concat([buf.subarray(0, (starts[2] as number) + 10), buf.subarray(starts[3])]);
    writeFileSync(path, cut);
    await assert.rejects(DatabaseLog.open(path), /corrupt/);
  }),
);

test(
  'open rejects clustered, empty and foreign files without changing them',
  withDir(async (dir) => {
    const clustered = join(dir, 'c.db');
    writeFileSync(clustered, 'OVSDB CLUSTER 3 5f36b2ea290645ee34d943220a14b54ee5ea5be5\n{}\n');
    await assert.rejects(DatabaseLog.open(clustered), /clustered database file/);
    const empty = join(dir, 'e.db');
    writeFileSync(empty, '');
    await assert.rejects(DatabaseLog.open(empty), /unexpected file format/);
    const foreign = join(dir, 'f.db');
    writeFileSync(foreign, JSON.stringify(SCHEMA));
    await assert.rejects(DatabaseLog.open(foreign), /unexpected file format/);
    assert.equal(readFileSync(foreign, 'utf8'), JSON.stringify(SCHEMA));
    const tornSchema = join(dir, 't.db');
    writeFileSync(tornSchema, encodeRecord(SCHEMA).subarray(0, 30));
    await assert.rejects(DatabaseLog.open(tornSchema), /no schema record/);
    await assert.rejects(DatabaseLog.open(join(dir, 'missing.db')), /open failed \(No such file or directory\)/);
  }),
);

test('scanLog returns the records and where the good part ends', () => {
  const { buf, starts } = image(2);
  const r = scanLog(Buffer.concat([buf, Buffer.from('OVSDB JSON 99')]), 'x.db');
  assert.equal(r.records.length, 3);
  assert.equal(r.goodEnd, buf.length);
  assert.match(r.tail ?? '', /end of file/i);
  assert.equal(starts.length, 3);
});

test(
  'group commit: 1000 concurrent durable appends are synced, in order, with fewer syncs',
  withDir(async (dir) => {
    const path = join(dir, 'g.db');
    const log = await DatabaseLog.create(path, SCHEMA);
    const order: number[] = [];
    const all: Promise<void>[] = [];
    for (let i = 0; i < 1000; i++) {
      all.push(log.append(rec(i), true).then(() => void order.push(i)));
      // Let some batches start mid-stream so that several groups form.
      if (i % 97 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(all);
    assert.deepEqual(order, [...Array(1000).keys()]);
    const st = log.stats;
    assert.equal(st.appends, 1000);
    assert.ok(st.syncs < 1000 && st.syncs >= 1, `syncs=${st.syncs}`);
    assert.ok(st.syncs <= st.writes, `syncs=${st.syncs} writes=${st.writes}`);
    assert.equal(log.syncedSize, log.size);
    assert.equal(log.recordCount, 1001);
    assert.equal(log.size, statSync(path).size);
    await log.close();
    await assert.rejects(log.append(rec(0)), /closed/);
    const { records } = await reopen(path);
    assert.deepEqual(records, [...Array(1000).keys()].map(rec));
  }),
);

test(
  'plain appends are written without fdatasync; a durable one resolves only after a sync that covers it',
  withDir(async (dir) => {
    const path = join(dir, 'd.db');
    const synced: number[] = [];
    const log = await DatabaseLog.create(path, SCHEMA, { onSync: (n) => synced.push(n) });
    const created = log.size;
    for (let i = 0; i < 20; i++) await log.append(rec(i));
    assert.equal(log.stats.syncs, 0);
    assert.equal(log.syncedSize, created);
    // Written: another reader of the file sees every acknowledged record.
    assert.equal(statSync(path).size, log.size);
    const before = log.size;
    const durable = log.append(rec(20), true);
    const plain = log.append(rec(21));
    await durable;
    const end = before + encodeRecord(rec(20)).length;
    assert.ok(log.stats.syncs >= 1);
    assert.ok(log.syncedSize >= end, `synced ${log.syncedSize} < ${end}`);
    assert.ok((synced.at(-1) ?? 0) >= end);
    await plain;
    await log.close();
    assert.deepEqual((await reopen(path)).records, [...Array(22).keys()].map(rec));
  }),
);

test(
  'compaction: schema + snapshot + the records appended during and after it',
  withDir(async (dir) => {
    const path = join(dir, 'k.db');
    const log = await DatabaseLog.create(path, SCHEMA);
    for (let i = 0; i < 50; i++) await log.append(rec(i));
    const before = log.size;
    // Some appends in flight when compaction starts; by contract the snapshot covers them.
    const early = [log.append(rec(50)), log.append(rec(51))];
    const snapshot: LogRecord = { t: { snapshot: { a: 51 } }, _date: 1, _comment: 'compacting database online' };
    const compacted = log.compact(SCHEMA, snapshot);
    const during: Promise<void>[] = [];
    for (let i = 100; i < 200; i++) {
      during.push(log.append(rec(i)));
      if (i % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    await compacted;
    await Promise.all([...early, ...during]);
    await log.append(rec(200));
    assert.equal(log.stats.compactions, 1);
    assert.ok(log.size < before + 100 * encodeRecord(rec(100)).length);
    assert.equal(log.size, statSync(path).size);
    assert.equal(log.recordCount, 2 + 101);
    await log.close();
    assert.ok(!existsSync(`${path}.tmp`));
    assert.deepEqual(readdirSync(dir), ['k.db']);
    const { schema, records } = await reopen(path);
    assert.deepEqual(schema, SCHEMA);
    assert.deepEqual(records, [snapshot, ...[...Array(101).keys()].map((k) => rec(100 + k))]);
  }),
);

test(
  'compaction calls queue behind one another and the log keeps working',
  withDir(async (dir) => {
    const path = join(dir, 'k2.db');
    const log = await DatabaseLog.create(path, SCHEMA);
    await log.append(rec(1));
    const a = log.compact(SCHEMA, { s: 1 });
    const p2 = log.append(rec(2));
    const b = log.compact(SCHEMA, { s: 2 });
    const p3 = log.append(rec(3));
    await Promise.all([a, b, p2, p3]);
    await log.close();
    assert.deepEqual((await reopen(path)).records, [{ s: 2 }, rec(3)]);
  }),
);

test(
  'kill -9 of a process appending and compacting loses no acknowledged record',
  withDir(async (dir) => {
    const path = join(dir, 'kill.db');
    const storageUrl = new URL('../../src/ovsdb/storage.js', import.meta.url).href;
    // The child appends with up to 16 records in flight, compacts now and then,
    // and prints each index once its append has resolved.
    const child = `
      import { DatabaseLog } from ${JSON.stringify(storageUrl)};
      const schema = ${JSON.stringify(SCHEMA)};
      const log = await DatabaseLog.create(${JSON.stringify(path)}, schema);
      let next = 0;
      const pad = 'x'.repeat(200);
      const one = () => {
        const i = next++;
        log.append({ i, pad }).then(() => { process.stdout.write(i + '\\n'); one(); });
        if (i > 0 && i % 300 === 0) log.compact(schema, { upto: i, _comment: 'snapshot' });
      };
      for (let k = 0; k < 16; k++) one();
    `;
    const proc = spawn(process.execPath, ['--input-type=module', '-e', child], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    let maxAcked = -1;
    const acked = new Set<number>();
    const lines = createInterface({ input: proc.stdout });
    await new Promise<void>((resolve) => {
      lines.on('line', (l) => {
        const i = Number(l);
        acked.add(i);
        maxAcked = Math.max(maxAcked, i);
        if (acked.size === 1500) {
          proc.kill('SIGKILL');
          resolve();
        }
      });
      void exited.then(() => resolve());
    });
    await exited;
    lines.close();
    assert.ok(acked.size >= 1500, `child acknowledged only ${acked.size} records`);
    const msgs: string[] = [];
    const { log, records } = await DatabaseLog.open(path, { log: (m) => msgs.push(m) });
    await log.close();
    // Records: an optional snapshot covering 0..upto, then consecutive indexes.
    let covered = -1;
    let body = records;
    const first = records[0];
    if (first !== undefined && 'upto' in first) {
      covered = first['upto'] as number;
      body = records.slice(1);
    }
    body.forEach((r, k) => assert.equal(r['i'], covered + 1 + k));
    const lastDurable = covered + body.length;
    for (const i of acked) assert.ok(i <= lastDurable, `acknowledged record ${i} is missing (durable up to ${lastDurable})`);
  }),
);

test(
  'compaction under a steady stream of appends: every resolved append survives, in order',
  withDir(async (dir) => {
    const path = join(dir, 's.db');
    const log = await DatabaseLog.create(path, SCHEMA);
    let next = 0;
    let stop = false;
    const all: Promise<void>[] = [];
    // One append per turn of the event loop, for as long as compactions run.
    const pump = (async () => {
      while (!stop) {
        all.push(log.append({ i: next++ }));
        await new Promise((r) => setImmediate(r));
      }
    })();
    let upto = -1;
    for (let round = 0; round < 30; round++) {
      for (let k = 0; k < 3; k++) await new Promise((r) => setImmediate(r));
      // The snapshot covers every record appended before this call.
      upto = next - 1;
      await log.compact(SCHEMA, { upto });
    }
    stop = true;
    await pump;
    await Promise.all(all);
    assert.equal(log.stats.compactions, 30);
    await log.close();
    const [snap, ...rest] = (await reopen(path)).records;
    assert.deepEqual(snap, { upto });
    assert.deepEqual(
      rest,
      [...Array(next - upto - 1).keys()].map((k) => ({ i: upto + 1 + k })),
    );
  }),
);
