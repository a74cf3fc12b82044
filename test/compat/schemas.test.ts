/**
 * The schemas in schemas/ are OVN 23.03's: every table, column, type,
 * constraint, index, isRoot and maxRows equal to the installed OVN's schema
 * files and the real ovsdb-server's _Server schema. The generated models are
 * up to date with them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseSchema, type DatabaseSchema } from '../../src/ovsdb/schema.js';
import { SCHEMA_FILES, loadSchemaJson } from '../../src/ovsdb/schema-files.js';
import { MODEL_FILES, MODELS_DIR, generateModels } from '../../src/ovsdb/model-gen.js';
import { startServer } from '../helpers/ovsdb-servers.js';
import { execFileSync } from 'node:child_process';

function compare(ours: DatabaseSchema, theirs: DatabaseSchema): void {
  assert.equal(ours.name, theirs.name);
  assert.equal(ours.version, theirs.version);
  assert.deepEqual([...ours.tables.keys()].sort(), [...theirs.tables.keys()].sort(), 'table names');
  for (const [name, t] of theirs.tables) {
    const o = ours.tables.get(name);
    assert.ok(o, name);
    assert.equal(o.isRoot, t.isRoot, `${name} isRoot`);
    assert.equal(o.maxRows, t.maxRows, `${name} maxRows`);
    assert.deepEqual(o.indexes, t.indexes, `${name} indexes`);
    assert.deepEqual([...o.columns.keys()].sort(), [...t.columns.keys()].sort(), `${name} columns`);
    for (const [cname, c] of t.columns) assert.deepEqual(o.columns.get(cname), c, `${name}.${cname}`);
  }
}

test('OVN_Northbound and OVN_Southbound match the installed OVN schemas column by column', () => {
  for (const [ours, installed] of [
    [SCHEMA_FILES.OVN_Northbound, '/usr/share/ovn/ovn-nb.ovsschema'],
    [SCHEMA_FILES.OVN_Southbound, '/usr/share/ovn/ovn-sb.ovsschema'],
  ] as const) {
    assert.ok(existsSync(installed), `${installed} (ovn-common) is installed`);
    compare(parseSchema(loadSchemaJson(ours)), parseSchema(JSON.parse(readFileSync(installed, 'utf8'))));
  }
});

test('_Server matches the schema the real ovsdb-server serves', async () => {
  const real = await startServer('real');
  try {
    const json: unknown = JSON.parse(execFileSync('ovsdb-client', ['get-schema', real.remote, '_Server']).toString());
    compare(parseSchema(loadSchemaJson(SCHEMA_FILES._Server)), parseSchema(json));
  } finally {
    await real.cleanup();
  }
});

test('generated models are up to date', () => {
  for (const m of MODEL_FILES) {
    const want = generateModels(parseSchema(loadSchemaJson(m.schema)), m.source);
    assert.equal(readFileSync(join(MODELS_DIR, m.out), 'utf8'), want, `${m.out}: run node dist/src/ovsdb/model-gen.js`);
  }
});

test('schema parsing rejects malformed schemas with a clear error', () => {
  const bad: Array<[unknown, RegExp]> = [
    [{ name: 'x', tables: { T: { columns: {} } } }, /at least one column/],
    [{ name: 'x', tables: { T: { columns: { c: { type: 'nope' } } } } }, /unknown atomic type/],
    [{ name: 'x', tables: { T: { columns: { c: { type: { key: { type: 'uuid', refTable: 'U' } } } } } } }, /undefined table U/],
    [{ name: 'x', tables: { T: { columns: { c: { type: { key: 'string', min: 2 } } } } } }, /min must be 0 or 1/],
    [{ name: 'x', version: '1.2', tables: {} }, /x\.y\.z/],
    [{ name: 'x', tables: { T: { columns: { c: { type: 'string' } }, indexes: [['d']] } } }, /no column d/],
  ];
  for (const [json, re] of bad) assert.throws(() => parseSchema(json), re);
});
