/**
 * db-ctl value parsing and output formatting (ovs-vsctl(8) "Database Values",
 * "Table Formatting Options"); expected texts are what ovn-nbctl prints.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ColumnType } from '../../src/ovsdb/schema.js';
import { atomToText, CtlError, datumToBare, datumToText, parseAtom, parseDatum } from '../../src/dbctl/values.js';
import { formatTable, type OutTable } from '../../src/dbctl/format.js';

const STRING_SET: ColumnType = { key: { type: 'string' }, min: 0, max: Infinity };
const STRING_MAP: ColumnType = { key: { type: 'string' }, value: { type: 'string' }, min: 0, max: Infinity };
const TAG: ColumnType = { key: { type: 'integer', minInteger: 1, maxInteger: 4095 }, min: 0, max: 1 };
const NAME: ColumnType = { key: { type: 'string' }, min: 1, max: 1 };
const BOOL: ColumnType = { key: { type: 'boolean' }, min: 0, max: 1 };
const REF: ColumnType = { key: { type: 'uuid', refTable: 'X' }, min: 0, max: 1 };

const err = (fn: () => unknown, message: string): void => assert.throws(fn, (e: unknown) => e instanceof CtlError && e.message === message);

test('sets: brackets optional, commas or spaces between elements, quoted strings', () => {
  assert.deepEqual(parseDatum('[a, b c]', STRING_SET), { keys: ['a', 'b', 'c'] });
  assert.deepEqual(parseDatum('a,b', STRING_SET), { keys: ['a', 'b'] });
  assert.deepEqual(parseDatum('"00:00:00:00:00:01 10.0.0.1"', STRING_SET), { keys: ['00:00:00:00:00:01 10.0.0.1'] });
  assert.deepEqual(parseDatum('[]', STRING_SET), { keys: [] });
  assert.deepEqual(parseDatum('"a\\"b\\n"', STRING_SET), { keys: ['a"b\n'] });
});

test('maps: {k=v, ...} or bare k=v pairs', () => {
  assert.deepEqual(parseDatum('{a=b, c="d e"}', STRING_MAP), { keys: ['a', 'c'], values: ['b', 'd e'] });
  assert.deepEqual(parseDatum('a=b c=d', STRING_MAP), { keys: ['a', 'c'], values: ['b', 'd'] });
  assert.deepEqual(parseDatum('{}', STRING_MAP), { keys: [], values: [] });
  assert.deepEqual(parseDatum('a c', STRING_MAP, undefined, { keysOnly: true }), { keys: ['a', 'c'] });
});

test('scalars, booleans, integers, references', () => {
  assert.deepEqual(parseDatum('51', TAG), { keys: [51] });
  assert.deepEqual(parseDatum('true', BOOL), { keys: [true] });
  assert.deepEqual(
    parseDatum('@p', REF, (n) => (n === '@p' ? '11111111-2222-3333-4444-555555555555' : '')),
    {
      keys: ['11111111-2222-3333-4444-555555555555'],
    },
  );
  assert.equal(parseAtom('y:z', { type: 'string' }), 'y:z');
  assert.equal(parseAtom('"q"', { type: 'string' }), 'q');
});

test('errors are worded like the real tool', () => {
  err(() => parseDatum('00:00:00:00:00:01', STRING_SET), '00:00:00:00:00:01: unexpected ":" parsing set of strings');
  err(() => parseDatum('a]', STRING_SET), 'a]: unexpected "]" parsing set of strings');
  err(() => parseDatum('[a', STRING_SET), '[a: missing "]" at end of data');
  err(() => parseDatum('{a=b', STRING_MAP), '{a=b: missing "}" at end of data');
  err(() => parseDatum('{a}', STRING_MAP), 'a}: syntax error at "}" expecting "="');
  err(() => parseDatum('"unterminated', STRING_SET), '"unterminated: quoted string extends past end of argument');
  err(() => parseDatum('abc', TAG), '"abc" is not a valid integer or range');
  err(() => parseDatum('5000', TAG), 'constraint violation: 5000 is not in the valid range 1 to 4095 (inclusive)');
  err(() => parseDatum('[1,2]', TAG), '[1,2]: 2 value(s) specified but the maximum number is 1');
  err(() => parseDatum('1-3', TAG), '1-3: 3 value(s) specified but the maximum number is 1');
  err(() => parseDatum('a b', NAME), 'a b: 2 value(s) specified but the maximum number is 1');
  err(() => parseDatum('[a,a]', STRING_SET), '[a,a]: set contains duplicate value');
  err(() => parseDatum('{a=b,a=c}', STRING_MAP), '{a=b,a=c}: map contains duplicate key');
  err(() => parseDatum('tx', BOOL), '"tx" is not a valid boolean (use "true" or "false")');
  err(() => parseDatum('abc', REF), '"abc" is not a valid UUID');
});

test('strings are quoted unless they are plain identifiers', () => {
  const S = { type: 'string' } as const;
  for (const [v, text] of [
    ['dmz-c51', 'dmz-c51'],
    ['x.y', 'x.y'],
    ['_a', '_a'],
    ['A1', 'A1'],
    ['true', '"true"'],
    ['a b', '"a b"'],
    ['a/b', '"a/b"'],
    ['a:b', '"a:b"'],
    ['é', '"é"'],
    ['', '""'],
    ['172.16.255.128/26', '"172.16.255.128/26"'],
    ['3ecf4135-c5f5-4d44-b754-6fe4718cab8e', '"3ecf4135-c5f5-4d44-b754-6fe4718cab8e"'],
    ['a"b\\c\n', '"a\\"b\\\\c\\n"'],
  ] as const)
    assert.equal(atomToText(v, S), text, v);
});

test('datums as text and bare', () => {
  assert.equal(datumToText({ keys: [] }, STRING_SET), '[]');
  assert.equal(datumToText({ keys: ['a', 'b c'] }, STRING_SET), '[a, "b c"]');
  assert.equal(datumToText({ keys: [] }, TAG), '[]');
  assert.equal(datumToText({ keys: [51] }, TAG), '51');
  assert.equal(datumToText({ keys: ['a', 'c'], values: ['b', 'd e'] }, STRING_MAP), '{a=b, c="d e"}');
  assert.equal(datumToBare({ keys: ['a', 'c'], values: ['b', 'd e'] }, STRING_MAP), 'a=b c=d e');
  assert.equal(datumToBare({ keys: ['x', 'y'] }, STRING_SET), 'x y');
});

const T: OutTable = {
  headings: ['name', 'external_ids'],
  rows: [
    [
      { datum: { keys: ['p1'] }, type: NAME },
      { datum: { keys: ['c', 'q'], values: ['d e', 'r'] }, type: STRING_MAP },
    ],
    [
      { datum: { keys: ['"x"'] }, type: NAME },
      { datum: { keys: [], values: [] }, type: STRING_MAP },
    ],
  ],
};

test('list, table, csv and json formats', () => {
  assert.equal(
    formatTable(T, { format: 'list', data: undefined, headings: true }),
    'name                : p1\nexternal_ids        : {c="d e", q=r}\n\nname                : "\\"x\\""\nexternal_ids        : {}\n',
  );
  assert.equal(
    formatTable(T, { format: 'table', data: undefined, headings: true }),
    'name    external_ids\n------- --------------\np1      {c="d e", q=r}\n"\\"x\\"" {}\n',
  );
  assert.equal(formatTable(T, { format: 'table', data: 'bare', headings: false }), 'p1  c=d e q=r\n"x"\n');
  assert.equal(
    formatTable(T, { format: 'csv', data: undefined, headings: true }),
    'name,external_ids\np1,"{c=""d e"", q=r}"\n"""\\""x\\""""",{}\n',
  );
  assert.equal(
    formatTable(T, { format: 'json', data: undefined, headings: true }),
    '{"data":[["p1",["map",[["c","d e"],["q","r"]]]],["\\"x\\"",["map",[]]]],"headings":["name","external_ids"]}\n',
  );
  assert.equal(formatTable(T, { format: 'list', data: 'bare', headings: false }), 'p1\nc=d e q=r\n\n"x"\n\n');
});
