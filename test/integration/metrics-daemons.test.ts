/**
 * `--metrics` on the daemons the other metrics tests do not start on their
 * own: `ovnts controller` (its endpoint serves the controller's families
 * before it has a southbound database) and `ovnts docker-plugin` (libnetwork
 * calls counted by method and status, unknown methods under one series).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OVNTS } from '../helpers/ovsdb-servers.js';
import { socketAccepts, VSWITCH_SCHEMA } from '../helpers/ovs.js';
import { cleanupAll, runOk, spawnDaemon, tmpDir } from '../helpers/proc.js';
import { metricsUrlFromLog, scrape } from '../helpers/metrics.js';

after(cleanupAll);

test('controller: its metrics families, before any southbound database', { timeout: 60_000 }, async (t) => {
  const tmp = tmpDir('ovnts-metrics-ctl');
  t.after(() => tmp.cleanup());
  const sock = join(tmp.path, 'db.sock');
  await runOk('ovsdb-tool', ['create', join(tmp.path, 'conf.db'), VSWITCH_SCHEMA]);
  const ovsdb = await spawnDaemon(
    'ovsdb-server',
    [join(tmp.path, 'conf.db'), `--remote=punix:${sock}`, `--unixctl=${join(tmp.path, 'ovsdb.ctl')}`, '--no-chdir', '-vconsole:err'],
    { readyWhen: () => socketAccepts(sock) },
  );
  t.after(() => ovsdb.stop());
  const logFile = join(tmp.path, 'controller.log');
  const ctl = await spawnDaemon(
    OVNTS,
    ['controller', `unix:${sock}`, `--log-file=${logFile}`, `--unixctl=${join(tmp.path, 'c.ctl')}`, '--metrics=127.0.0.1:0'],
    { name: 'ovnts controller', env: { OVN_RUNDIR: tmp.path, OVS_RUNDIR: tmp.path } },
  );
  t.after(() => ctl.stop());
  const s = await scrape(await metricsUrlFromLog(logFile));
  for (const [family, type] of [
    ['ovnts_controller_flow_changes', 'counter'],
    ['ovnts_controller_flow_install_duration_seconds', 'histogram'],
    ['ovnts_controller_packet_ins', 'counter'],
    ['ovnts_controller_dhcp_replies', 'counter'],
    ['ovnts_controller_desired_flows', 'gauge'],
    ['ovnts_controller_installed_flows', 'gauge'],
  ] as const)
    assert.equal(s.types.get(family), type, family);
  assert.equal(s.value('ovnts_controller_installed_flows'), 0, 'no bridge, no flows');
  assert.equal(s.value('ovnts_controller_flow_install_duration_seconds_count'), 0);
});

test('docker-plugin: libnetwork calls by method and status', { timeout: 60_000 }, async (t) => {
  const tmp = tmpDir('ovnts-metrics-plugin');
  t.after(() => tmp.cleanup());
  const sock = join(tmp.path, 'ovnts.sock');
  const logFile = join(tmp.path, 'plugin.log');
  const plugin = await spawnDaemon(
    OVNTS,
    ['docker-plugin', `--socket=${sock}`, '--ipam=http://127.0.0.1:1', `--log-file=${logFile}`, '--metrics=127.0.0.1:0'],
    { name: 'ovnts docker-plugin', readyWhen: () => socketAccepts(sock) },
  );
  t.after(() => plugin.stop());
  const url = await metricsUrlFromLog(logFile);
  const call = (method: string): Promise<string> =>
    runOk('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--unix-socket', sock, '-X', 'POST', `http://plugin/${method}`]);
  assert.equal(await call('Plugin.Activate'), '200');
  assert.equal(await call('NetworkDriver.GetCapabilities'), '200');
  assert.equal(await call('NetworkDriver.GetCapabilities'), '200');
  assert.equal(await call('NoSuch.Method'), '404');
  const s = await scrape(url);
  const n = (labels: Record<string, string>): number | undefined => s.value('ovnts_docker_plugin_requests_total', labels);
  assert.equal(n({ method: 'Plugin.Activate', status: '200' }), 1);
  assert.equal(n({ method: 'NetworkDriver.GetCapabilities', status: '200' }), 2);
  assert.equal(n({ method: 'other', status: '404' }), 1, 'unknown methods share one series');
  assert.equal(n({ method: 'NoSuch.Method' }), undefined);
  assert.equal(s.value('ovnts_docker_plugin_request_duration_seconds_count'), 4);
});
