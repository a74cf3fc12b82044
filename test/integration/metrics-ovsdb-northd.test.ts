/**
 * `--metrics` on `ovnts ovsdb-server` and `ovnts northd`: the endpoints parse
 * as Prometheus text (curl + Prometheus's Python parser) and their counters
 * move with the work done — transactions by result (committed, unchanged,
 * failed) and their latency, connections, monitors; northd's passes, pass
 * time and logical flow counts. Bad addresses fail at start-up in one line.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cleanupAll, run, runOk, spawnDaemon, tmpDir, type Daemon } from '../helpers/proc.js';
import { NB_SCHEMA, OVNTS, SB_SCHEMA } from '../helpers/ovsdb-servers.js';
import { socketAccepts } from '../helpers/ovs.js';
import { metricsUrlFromLog, scrape, type Scrape } from '../helpers/metrics.js';

after(cleanupAll);

let dir: ReturnType<typeof tmpDir>;
const servers: Record<'nb' | 'sb', { daemon: Daemon; url: string; remote: string }> = {} as never;
let northd: { daemon: Daemon; url: string };

const nbctl = (...a: string[]): Promise<string> => runOk('ovn-nbctl', [`--db=${servers.nb.remote}`, '--timeout=20', ...a]);

before(async () => {
  dir = tmpDir('ovnts-metrics-ovsdb');
  for (const [db, schema] of [
    ['nb', NB_SCHEMA],
    ['sb', SB_SCHEMA],
  ] as const) {
    const file = join(dir.path, `${db}.db`);
    const sock = join(dir.path, `${db}.sock`);
    const log = join(dir.path, `${db}.log`);
    await runOk(OVNTS, ['ovsdb-tool', 'create', file, schema]);
    const daemon = await spawnDaemon(
      OVNTS,
      [
        'ovsdb-server',
        file,
        `--remote=punix:${sock}`,
        `--unixctl=${join(dir.path, `${db}.ctl`)}`,
        `--log-file=${log}`,
        '--metrics=127.0.0.1:0',
      ],
      { name: `ovnts ovsdb-server(${db})`, readyWhen: () => socketAccepts(sock) },
    );
    servers[db] = { daemon, url: await metricsUrlFromLog(log), remote: `unix:${sock}` };
  }
  const log = join(dir.path, 'northd.log');
  const daemon = await spawnDaemon(
    OVNTS,
    [
      'northd',
      `--ovnnb-db=${servers.nb.remote}`,
      `--ovnsb-db=${servers.sb.remote}`,
      `--unixctl=${join(dir.path, 'northd.ctl')}`,
      `--log-file=${log}`,
      '--metrics=127.0.0.1:0',
    ],
    { name: 'ovnts northd' },
  );
  northd = { daemon, url: await metricsUrlFromLog(log) };
});
after(() => dir?.cleanup());

test('ovsdb-server: transactions by result, latency, connections and monitors', { timeout: 60_000 }, async () => {
  const before = await scrape(servers.nb.url);
  assert.equal(before.types.get('ovnts_ovsdb_transactions'), 'counter');
  assert.equal(before.types.get('ovnts_ovsdb_transaction_duration_seconds'), 'histogram');
  assert.equal(before.types.get('process_cpu_seconds'), 'counter', "prom-client's process metrics are there too");
  const count = (s: Scrape, result: string): number => s.value('ovnts_ovsdb_transactions_total', { db: 'OVN_Northbound', result }) ?? 0;

  await nbctl('--wait=sb', 'ls-add', 'm-sw0', '--', 'lsp-add', 'm-sw0', 'm-p1');
  const client = (txn: unknown[]): Promise<string> =>
    runOk('ovsdb-client', ['transact', servers.nb.remote, JSON.stringify(['OVN_Northbound', ...txn])]);
  await client([{ op: 'select', table: 'Logical_Switch', where: [] }]);
  // A wrong type: the operation fails, the transaction commits nothing.
  await client([{ op: 'insert', table: 'Logical_Switch', row: { name: 7 } }]);

  const after = await scrape(servers.nb.url);
  assert.ok(count(after, 'committed') >= count(before, 'committed') + 1, 'the ls-add committed');
  assert.ok(count(after, 'unchanged') >= count(before, 'unchanged') + 1, 'the select changed nothing');
  assert.equal(count(after, 'failed'), count(before, 'failed') + 1, 'the bad insert failed');
  const all = after.value('ovnts_ovsdb_transactions_total') ?? 0;
  assert.equal(after.value('ovnts_ovsdb_transaction_duration_seconds_count'), all, 'every transaction timed');
  assert.ok((after.value('ovnts_ovsdb_transaction_duration_seconds_sum') ?? 0) > 0);
  // northd monitors the NB and keeps its connection; each tool run was one more connection.
  assert.ok((after.value('ovnts_ovsdb_monitors', { db: 'OVN_Northbound' }) ?? 0) >= 1, 'northd monitors the NB');
  assert.ok((after.value('ovnts_ovsdb_connections') ?? 0) >= 1);
  assert.ok(
    (after.value('ovnts_ovsdb_connections_accepted_total') ?? 0) >= (before.value('ovnts_ovsdb_connections_accepted_total') ?? 0) + 3,
  );
  // The SB server counted northd's writes under its own database name.
  const sb = await scrape(servers.sb.url);
  assert.ok((sb.value('ovnts_ovsdb_transactions_total', { db: 'OVN_Southbound', result: 'committed' }) ?? 0) >= 1);
  assert.equal(sb.value('ovnts_ovsdb_transactions_total', { db: 'OVN_Northbound' }), undefined);
});

test('northd: passes, pass time, SB operations and logical flows', { timeout: 60_000 }, async () => {
  await nbctl('--wait=sb', 'sync');
  const before = await scrape(northd.url);
  assert.equal(before.value('ovnts_northd_active'), 1);
  const flows = (s: Scrape): number => s.value('ovnts_northd_logical_flows') ?? 0;
  const lflows = (await runOk('ovn-sbctl', [`--db=${servers.sb.remote}`, '--bare', '--columns=_uuid', 'list', 'Logical_Flow']))
    .trim()
    .split(/\s+/);
  assert.equal(flows(before), lflows.length, 'the gauge is the SB Logical_Flow table size');

  await nbctl(
    '--wait=sb',
    'ls-add',
    'm-sw1',
    '--',
    'lsp-add',
    'm-sw1',
    'm-p2',
    '--',
    'lsp-set-addresses',
    'm-p2',
    '02:00:00:00:00:02 192.0.2.2',
  );
  const after = await scrape(northd.url);
  const ok = (s: Scrape): number => s.value('ovnts_northd_passes_total', { result: 'ok' }) ?? 0;
  assert.ok(ok(after) > ok(before), 'a pass ran');
  assert.equal(after.value('ovnts_northd_pass_duration_seconds_count'), ok(after), 'every pass timed');
  assert.ok(flows(after) > flows(before), 'a new switch brings its flows');
  assert.ok((after.value('ovnts_northd_logical_flows', { pipeline: 'ingress' }) ?? 0) > 0);
  assert.ok((after.value('ovnts_northd_logical_flows', { pipeline: 'egress' }) ?? 0) > 0);
  assert.ok((after.value('ovnts_northd_sb_operations_total') ?? 0) > (before.value('ovnts_northd_sb_operations_total') ?? 0));
});

test('the endpoint: only /metrics, GET or HEAD', async () => {
  const status = async (...a: string[]): Promise<string> =>
    (await runOk('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', ...a])).trim();
  assert.equal(await status(northd.url.replace('/metrics', '/other')), '404');
  assert.equal(await status('-X', 'POST', northd.url), '405');
  assert.equal(await status('-I', northd.url), '200');
});

test('a bad or busy --metrics address fails at start-up in one line', async () => {
  const bad = await run(OVNTS, ['northd', `--ovnnb-db=${servers.nb.remote}`, `--ovnsb-db=${servers.sb.remote}`, '--metrics=nowhere']);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'ovn-northd: --metrics=nowhere: bad address (expected ADDR:PORT)\n');
  const port = new URL(servers.nb.url).port;
  const busy = await run(OVNTS, [
    'northd',
    `--ovnnb-db=${servers.nb.remote}`,
    `--ovnsb-db=${servers.sb.remote}`,
    `--unixctl=${join(dir.path, 'busy.ctl')}`,
    `--metrics=127.0.0.1:${port}`,
  ]);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, new RegExp(`^ovn-northd: --metrics=127\\.0\\.0\\.1:${port}: listen EADDRINUSE.*\\n$`));
});
