/**
 * `ovnts ipam --metrics`: requests are counted by method, route pattern (ids
 * make no new series; paths no route serves are `unmatched`) and status, and
 * timed; the endpoint parses as Prometheus text (curl + Prometheus's parser).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OVNTS, startServer } from '../helpers/ovsdb-servers.js';
import { cleanupAll, runOk, spawnDaemon, tmpDir, waitFor } from '../helpers/proc.js';
import { metricsUrlFromLog, scrape } from '../helpers/metrics.js';
import { readFileSync } from 'node:fs';

after(cleanupAll);

test('ipam: requests by method, route and status, and their latency', { timeout: 60_000 }, async (t) => {
  const nb = await startServer('ovnts');
  t.after(() => nb.cleanup());
  const tmp = tmpDir('ovnts-metrics-ipam');
  t.after(() => tmp.cleanup());
  const logFile = join(tmp.path, 'ipam.log');
  const ipam = await spawnDaemon(
    OVNTS,
    ['ipam', `--ovnnb-db=${nb.remote}`, '--listen=127.0.0.1:0', `--log-file=${logFile}`, '--metrics=127.0.0.1:0'],
    {
      name: 'ovnts ipam',
    },
  );
  t.after(() => ipam.stop());
  const metricsUrl = await metricsUrlFromLog(logFile);
  const api = await waitFor(() => /ovnts ipam serving (http:\/\/\S+?)\/? /.exec(readFileSync(logFile, 'utf8'))?.[1], {
    what: 'the API URL',
  });
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> => {
    const out = await runOk('curl', [
      '-sS',
      '-X',
      method,
      '-w',
      '\n%{http_code}',
      ...(body === undefined ? [] : ['-H', 'Content-Type: application/json', '-d', JSON.stringify(body)]),
      `${api}${path}`,
    ]);
    const i = out.lastIndexOf('\n');
    return { status: Number(out.slice(i + 1)), body: out.slice(0, i) };
  };

  const before = await scrape(metricsUrl);
  assert.equal(before.types.get('ovnts_ipam_requests'), 'counter');
  assert.equal(before.types.get('ovnts_ipam_request_duration_seconds'), 'histogram');
  const created = await call('POST', '/v2.0/networks', { network: { name: 'm-net' } });
  assert.equal(created.status, 201, created.body);
  const id = (JSON.parse(created.body) as { network: { id: string } }).network.id;
  assert.equal((await call('GET', `/v2.0/networks/${id}`)).status, 200);
  assert.equal((await call('GET', '/v2.0/networks/00000000-0000-0000-0000-000000000000')).status, 404);
  assert.equal((await call('GET', '/v2.0/networks')).status, 200);
  assert.equal((await call('GET', '/v2.0/no-such-things')).status, 404);

  const s = await scrape(metricsUrl);
  const n = (labels: Record<string, string>): number => s.value('ovnts_ipam_requests_total', labels) ?? 0;
  assert.equal(n({ method: 'POST', route: '/v2.0/networks', status: '201' }), 1);
  assert.equal(n({ method: 'GET', route: '/v2.0/networks/:id', status: '200' }), 1, 'one series for every id');
  assert.equal(n({ method: 'GET', route: '/v2.0/networks/:id', status: '404' }), 1);
  assert.equal(n({ method: 'GET', route: '/v2.0/networks', status: '200' }), 1);
  assert.equal(n({ route: 'unmatched', status: '404' }), 1);
  const total = s.value('ovnts_ipam_requests_total') ?? 0;
  assert.equal(total, 5);
  assert.equal(s.value('ovnts_ipam_request_duration_seconds_count'), total, 'every request timed');
  assert.ok((s.value('ovnts_ipam_request_duration_seconds_sum') ?? 0) > 0);
});
