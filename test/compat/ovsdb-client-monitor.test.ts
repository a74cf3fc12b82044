/**
 * The real `ovsdb-client monitor`, `monitor-cond` and `dump` against the real
 * ovsdb-server and `ovnts ovsdb-server`, with the same transactions: the
 * printed updates must be the same (UUIDs normalised).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { bothServers, type RunningServer } from '../helpers/ovsdb-servers.js';
import { normalizeUuids } from '../helpers/normalize.js';
import { waitFor } from '../helpers/proc.js';

const servers = bothServers();

function transact(remote: string, ...ops: unknown[]): void {
  execFileSync('ovsdb-client', ['transact', remote, JSON.stringify(['OVN_Northbound', ...ops])]);
}

const ls = (name: string) => ({ op: 'insert', table: 'Logical_Switch', row: { name } });

/**
 * Runs an ovsdb-client monitor command, applies `steps` one at a time — each
 * after the previous update was printed — and returns everything it printed.
 */
async function monitorOutput(server: RunningServer, args: string[], steps: Array<() => void>): Promise<string> {
  const child = spawn('ovsdb-client', [args[0] as string, server.remote, ...args.slice(1)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  // Each update is a table with one header line starting with "row".
  const blocks = () => out.split('\n').filter((l) => l.startsWith('row')).length;
  try {
    await waitFor(() => blocks() >= 1, { what: `${server.kind}: initial contents` });
    for (let i = 0; i < steps.length; i++) {
      (steps[i] as () => void)();
      await waitFor(() => blocks() >= i + 2, { what: `${server.kind}: update ${i + 1}` });
    }
  } finally {
    child.kill();
  }
  return out;
}

test('ovsdb-client monitor prints the same updates', async () => {
  const outputs: string[] = [];
  for (const s of [servers.real, servers.ovnts]) {
    transact(s.remote, ls('m0'));
    outputs.push(
      await monitorOutput(
        s,
        ['monitor', 'OVN_Northbound', 'Logical_Switch', 'name,external_ids,ports'],
        [
          () => transact(s.remote, ls('m1')),
          () =>
            transact(s.remote, {
              op: 'update',
              table: 'Logical_Switch',
              where: [['name', '==', 'm1']],
              row: {
                external_ids: [
                  'map',
                  [
                    ['a', 'b'],
                    ['c', 'd'],
                  ],
                ],
              },
            }),
          () =>
            transact(s.remote, {
              op: 'mutate',
              table: 'Logical_Switch',
              where: [['name', '==', 'm1']],
              mutations: [['external_ids', 'delete', ['set', ['a']]]],
            }),
          () => transact(s.remote, { op: 'delete', table: 'Logical_Switch', where: [['name', '==', 'm1']] }),
        ],
      ),
    );
  }
  assert.equal(normalizeUuids(outputs[1] as string), normalizeUuids(outputs[0] as string));
});

test('ovsdb-client monitor-cond prints the same updates for rows matching the condition', async () => {
  const outputs: string[] = [];
  // Every step changes what matches, so each one prints an update.
  for (const s of [servers.real, servers.ovnts]) {
    transact(s.remote, ls('c0'), ls('c1'));
    outputs.push(
      await monitorOutput(
        s,
        ['monitor-cond', 'OVN_Northbound', '[["name","==","c1"]]', 'Logical_Switch', 'name,other_config'],
        [
          () => transact(s.remote, { op: 'update', table: 'Logical_Switch', where: [], row: { other_config: ['map', [['k', 'v']]] } }),
          () => transact(s.remote, { op: 'update', table: 'Logical_Switch', where: [['name', '==', 'c1']], row: { name: 'c2' } }),
          () => transact(s.remote, { op: 'update', table: 'Logical_Switch', where: [['name', '==', 'c0']], row: { name: 'c1' } }),
        ],
      ),
    );
  }
  assert.equal(normalizeUuids(outputs[1] as string), normalizeUuids(outputs[0] as string));
});

test('ovsdb-client dump prints the same tables', () => {
  const dumps = [servers.real, servers.ovnts].map((s) => {
    transact(s.remote, { op: 'insert', table: 'Address_Set', row: { name: 'as1', addresses: ['set', ['192.0.2.1', '192.0.2.2']] } });
    const text = execFileSync('ovsdb-client', ['dump', s.remote, 'OVN_Northbound']).toString();
    // Rows come in hash order: compare each table's rows as a sorted set.
    return normalizeUuids(
      text
        .split('\n')
        .map((l) => l.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'U'))
        .sort()
        .join('\n'),
    );
  });
  assert.equal(dumps[1], dumps[0]);
});
