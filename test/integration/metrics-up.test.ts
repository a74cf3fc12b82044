/**
 * `ovnts up --metrics`: one endpoint for everything the process runs — the NB
 * and SB servers (as `ovnts_nb_ovsdb_*`, `ovnts_sb_ovsdb_*`), northd, the
 * controller and the IPAM. A VIF plugged into br-int gets its address from
 * the controller's DHCP (the real dhclient): the controller's DHCP replies
 * (OFFER, ACK), its put_dhcp_opts packet-ins, its flow installs and flow
 * counts all show, as do the databases' transactions and northd's passes.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNetns, deleteNetns, dhclient, nsPrefix, nsRunOk, runId } from '../helpers/netns.js';
import { startOvs } from '../helpers/ovs.js';
import { setChassisConfig } from '../helpers/chassis.js';
import { cleanupAll, runOk, spawnDaemon, tmpDir, waitFor } from '../helpers/proc.js';
import { OVNTS } from '../helpers/ovsdb-servers.js';
import { metricsUrlFromLog, parseMetrics, type Scrape } from '../helpers/metrics.js';

after(cleanupAll);

const VIF_MAC = '02:00:00:00:00:11';
const VIF_IP = '192.0.2.11';

test('ovnts up --metrics: databases, northd, controller (DHCP, flows) and ipam on one endpoint', { timeout: 120_000 }, async (t) => {
  const id = runId();
  const tmp = tmpDir('ovnts-metrics-up');
  t.after(() => tmp.cleanup());
  const ns = `${id}-mu`;
  const vifNs = `${id}-mv`;
  await createNetns(ns);
  t.after(() => deleteNetns(ns));
  await createNetns(vifNs);
  t.after(() => deleteNetns(vifNs));
  const ovsDir = join(tmp.path, 'ovs');
  mkdirSync(ovsDir);
  const ovs = await startOvs({ netns: ns, dir: ovsDir });
  t.after(() => ovs.stop());
  const run = join(tmp.path, 'run');
  const pidfile = join(tmp.path, 'up.pid');
  const logFile = join(tmp.path, 'up.log');
  await setChassisConfig(ovs, { systemId: `${id}-chassis`, sbRemote: `unix:${run}/ovnsb_db.sock`, encapIp: '127.0.0.1' });
  const pre = nsPrefix(ns);
  const up = await spawnDaemon(
    pre[0] as string,
    [
      ...pre.slice(1),
      OVNTS,
      'up',
      `--rundir=${run}`,
      `--dbdir=${join(tmp.path, 'db')}`,
      `--ovs-db=${ovs.dbRemote}`,
      `--pidfile=${pidfile}`,
      `--unixctl=${join(tmp.path, 'up.ctl')}`,
      `--log-file=${logFile}`,
      '--ipam=127.0.0.1:0',
      '--metrics=127.0.0.1:0',
    ],
    { name: 'ovnts up', env: { ...ovs.env }, readyWhen: async () => existsSync(pidfile) && readFileSync(pidfile, 'utf8').trim() !== '' },
  );
  t.after(() => up.stop());
  // up runs in the OVS namespace: its metrics are reached from there.
  const url = await metricsUrlFromLog(logFile);
  const scrapeUp = async (): Promise<Scrape> => {
    const text = await nsRunOk(ns, 'curl', ['-sS', '--fail', '--max-time', '10', url]);
    return parseMetrics(text);
  };
  const nbctl = (...a: string[]): Promise<string> => runOk('ovn-nbctl', [`--db=unix:${run}/ovnnb_db.sock`, '--timeout=30', ...a]);

  const before = await scrapeUp();
  assert.equal(before.value('ovnts_controller_dhcp_replies_total'), undefined, 'no DHCP reply yet');

  await nbctl('ls-add', 'sw', '--', 'lsp-add', 'sw', 'p1', '--', 'lsp-set-addresses', 'p1', `${VIF_MAC} ${VIF_IP}`);
  const dhcp =
    (await nbctl('dhcp-options-create', '192.0.2.0/24')).trim() ||
    (await nbctl('--bare', '--columns=_uuid', 'list', 'DHCP_Options')).trim();
  await nbctl(
    'dhcp-options-set-options',
    dhcp,
    'lease_time=3600',
    'router=192.0.2.1',
    'server_id=192.0.2.1',
    'server_mac=02:00:00:00:00:01',
  );
  await nbctl('lsp-set-dhcpv4-options', 'p1', dhcp);
  await waitFor(async () => (await ovs.vsctl('--if-exists', 'get', 'Bridge', 'br-int', 'name')).trim() === 'br-int', { what: 'br-int' });
  await ovs.vsctl('add-port', 'br-int', 'p1', '--', 'set', 'Interface', 'p1', 'type=internal', 'external_ids:iface-id=p1');
  await waitFor(async () => (await ovs.exec('ip', ['link', 'show', 'p1'])).code === 0, { what: 'tap p1' });
  await ovs.exec('ip', ['link', 'set', 'p1', 'address', VIF_MAC], { check: true });
  await ovs.exec('ip', ['link', 'set', 'p1', 'netns', vifNs], { check: true });
  await nsRunOk(vifNs, 'ip', ['link', 'set', 'p1', 'up']);
  await waitFor(async () => (await nbctl('lsp-get-up', 'p1')).trim() === 'up', { what: 'p1 up', timeoutMs: 30_000 });
  await nbctl('--wait=hv', 'sync');
  const lease = await dhclient(vifNs, 'p1', { dir: tmp.path, timeoutS: 20 });
  await lease.stop();
  assert.equal(lease.address, `${VIF_IP}/24`);

  const s = await scrapeUp();
  // The controller: DHCP answered through put_dhcp_opts packet-ins, flows computed and installed.
  assert.ok((s.value('ovnts_controller_dhcp_replies_total', { type: 'OFFER' }) ?? 0) >= 1, 'an OFFER was sent');
  assert.ok((s.value('ovnts_controller_dhcp_replies_total', { type: 'ACK' }) ?? 0) >= 1, 'an ACK was sent');
  const dhcpIns = s.value('ovnts_controller_packet_ins_total', { opcode: 'put_dhcp_opts', verdict: 'resume' }) ?? 0;
  assert.ok(dhcpIns >= 2, `put_dhcp_opts packet-ins resumed: ${dhcpIns}`);
  const installed = s.value('ovnts_controller_installed_flows') ?? 0;
  const flows = (await ovs.ofctl('-O', 'OpenFlow15', 'dump-flows', 'br-int')).split('\n').filter((l) => l.includes('actions=')).length;
  assert.equal(installed, flows, 'the installed-flows gauge is what the bridge holds');
  assert.equal(s.value('ovnts_controller_desired_flows'), installed);
  assert.ok((s.value('ovnts_controller_flow_install_duration_seconds_count') ?? 0) >= 1);
  assert.ok((s.value('ovnts_controller_flow_changes_total', { op: 'add' }) ?? 0) >= installed);
  // The databases, each under its own prefix; northd; the IPAM's families are there.
  const committed = (name: string): number => s.value(name, { result: 'committed' }) ?? 0;
  assert.ok(committed('ovnts_nb_ovsdb_transactions_total') >= 1, 'NB transactions');
  assert.ok(committed('ovnts_sb_ovsdb_transactions_total') >= 1, 'SB transactions');
  assert.equal(s.value('ovnts_nb_ovsdb_transactions_total', { db: 'OVN_Southbound' }), undefined, 'each server its own');
  assert.ok((s.value('ovnts_sb_ovsdb_monitors', { db: 'OVN_Southbound' }) ?? 0) >= 2, 'northd and the controller monitor the SB');
  assert.ok(
    (s.value('ovnts_northd_passes_total', { result: 'ok' }) ?? 0) > (before.value('ovnts_northd_passes_total', { result: 'ok' }) ?? 0),
  );
  assert.equal(s.value('ovnts_northd_active'), 1);
  assert.equal(s.types.get('ovnts_ipam_requests'), 'counter');
});
