/**
 * Changing monitor conditions on a live monitor (OvsdbClient.setConditions,
 * `monitor_cond_change`, ovsdb-server(7) 4.1.13) against the real
 * ovsdb-server and ours, on the OVN_Southbound schema the controller uses it
 * with: logical flows selected by datapath (an optional UUID column), then by
 * other datapaths, then rows that leave or enter the selection by an update,
 * the whole table again, none, and a change made while the server is down
 * (applied from a full snapshot after the reconnection).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { bothServers, SB_SCHEMA, type RunningServer } from '../helpers/ovsdb-servers.js';
import { OvsdbClient, type RowChange } from '../../src/ovsdb/client.js';
import { anyOf, NO_ROWS } from '../../src/ovsdb/client/conditions.js';

const servers = bothServers([SB_SCHEMA]);

function transact(remote: string, ...ops: unknown[]): unknown[] {
  return JSON.parse(execFileSync('ovsdb-client', ['transact', remote, JSON.stringify(['OVN_Southbound', ...ops])]).toString()) as unknown[];
}

const lflow = (match: string, dp: string | undefined): unknown => ({
  op: 'insert',
  table: 'Logical_Flow',
  row: {
    pipeline: 'ingress',
    table_id: 0,
    priority: 100,
    match,
    actions: 'next;',
    ...(dp === undefined ? {} : { logical_datapath: ['named-uuid', dp] }),
  },
});

async function scenario(server: RunningServer): Promise<string[]> {
  const seen: string[] = [];
  const r = transact(
    server.remote,
    { op: 'insert', table: 'Datapath_Binding', row: { tunnel_key: 1 }, 'uuid-name': 'd1' },
    { op: 'insert', table: 'Datapath_Binding', row: { tunnel_key: 2 }, 'uuid-name': 'd2' },
    { op: 'insert', table: 'Datapath_Binding', row: { tunnel_key: 3 }, 'uuid-name': 'd3' },
    lflow('f1', 'd1'),
    lflow('f2', 'd2'),
    lflow('f3', 'd3'),
    lflow('f0', undefined),
  ) as Array<{ uuid: [string, string] }>;
  const [d1, d2, d3] = r.slice(0, 3).map((x) => ['uuid', x.uuid[1]] as const);
  const client = new OvsdbClient({
    remotes: server.remote,
    database: 'OVN_Southbound',
    tables: { Logical_Flow: ['match', 'logical_datapath'], Datapath_Binding: ['tunnel_key'] },
    conditions: { Logical_Flow: anyOf('logical_datapath', [d1]) },
  });
  const matches = (): string =>
    [...client.table('Logical_Flow').values()]
      .map((row) => String(row.scalar('match')))
      .sort()
      .join(',');
  const record = (what: string): void => void seen.push(`${what}: ${matches()}`);
  const changes: string[] = [];
  client.on('change', (cs: RowChange[]) => {
    for (const c of cs)
      if (c.table === 'Logical_Flow')
        changes.push(`${c.old === null ? '+' : c.new === null ? '-' : '~'}${String((c.new ?? c.old)!.scalar('match'))}`);
  });
  try {
    await client.start();
    record('datapath d1');
    assert.equal(client.table('Datapath_Binding').size, 3, 'a table without a condition is whole');

    await client.setConditions({ Logical_Flow: anyOf('logical_datapath', [d2, d3]) });
    record('datapaths d2, d3');
    seen.push(`changes: ${changes.sort().join(' ')}`);
    changes.length = 0;

    // Rows enter and leave the selection when they change.
    transact(server.remote, {
      op: 'update',
      table: 'Logical_Flow',
      where: [['match', '==', 'f1']],
      row: { logical_datapath: ['set', [d2]] },
    });
    transact(server.remote, {
      op: 'update',
      table: 'Logical_Flow',
      where: [['match', '==', 'f3']],
      row: { logical_datapath: ['set', []] },
    });
    await client.waitUntil(() => matches() === 'f1,f2');
    record('after updates');

    await client.setConditions({ Logical_Flow: undefined });
    record('whole table');
    await client.setConditions({ Logical_Flow: [...NO_ROWS] });
    record('no rows');
    seen.push(`changes: ${changes.sort().join(' ')}`);

    // Unchanged conditions send nothing (and resolve at once).
    await client.setConditions({ Logical_Flow: [...NO_ROWS] });

    // A change while the server is down: applied from a full snapshot once it is back.
    await server.kill9();
    const restarted = server.restart();
    await client.setConditions({ Logical_Flow: anyOf('logical_datapath', [d2]) });
    await restarted;
    await client.waitUntil(() => matches() === 'f1,f2', 20_000);
    record('after the restart');
  } finally {
    await client.stop();
  }
  return seen;
}

test('setConditions (monitor_cond_change) gives the same replica on the real ovsdb-server and ours', { timeout: 120_000 }, async () => {
  const real = await scenario(servers.real);
  const ours = await scenario(servers.ovnts);
  assert.deepEqual(real, [
    'datapath d1: f1',
    'datapaths d2, d3: f2,f3',
    'changes: +f1 +f2 +f3 -f1',
    'after updates: f1,f2',
    'whole table: f0,f1,f2,f3',
    'no rows: ',
    'changes: +f0 +f1 +f3 -f0 -f1 -f2 -f3 -f3',
    'after the restart: f1,f2',
  ]);
  assert.deepEqual(ours, real);
});
