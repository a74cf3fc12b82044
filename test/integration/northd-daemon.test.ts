/**
 * ovnts northd as a daemon, on ovnts databases: one active instance through the
 * SB lock (a second stands by and takes over when the first is killed), nested
 * port tag allocation across changes and restarts, and a bad ACL match refused
 * with a clear message while everything else keeps working.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupAll, runOk, tmpDir, waitFor } from '../helpers/proc.js';
import { startOvnDatabases, type LabDatabases } from '../helpers/ovn-lab.js';
import { northdStatus, startOvntsNorthd, type OvntsNorthdHandle } from '../helpers/ovnts-northd.js';

after(cleanupAll);

let dir: ReturnType<typeof tmpDir>;
let dbs: LabDatabases;
let n = 0;
const ctx = (): { dbs: LabDatabases; dir: string; log: () => void } => {
  const d = join(dir.path, `northd${n++}`);
  mkdirSync(d);
  return { dbs, dir: d, log: () => {} };
};
const nbctl = (...a: string[]): Promise<string> => runOk('ovn-nbctl', [`--db=${dbs.nbRemote}`, '--timeout=20', ...a]);
const sbctl = (...a: string[]): Promise<string> => runOk('ovn-sbctl', [`--db=${dbs.sbRemote}`, '--timeout=20', ...a]);
const tagOf = async (p: string): Promise<string> => (await nbctl('lsp-get-tag', p)).trim();

before(async () => {
  dir = tmpDir('ovnts-northd-daemon');
  dbs = await startOvnDatabases(dir.path, 'ovnts');
});
after(async () => {
  await dbs?.stop();
  dir?.cleanup();
});

test('one active northd: the second stands by and takes over after kill -9', { timeout: 60_000 }, async () => {
  const a = await startOvntsNorthd(ctx());
  const b = await startOvntsNorthd(ctx(), false, 'standby');
  try {
    assert.equal(await northdStatus(a.ctl), 'Status: active');
    assert.equal(await northdStatus(b.ctl), 'Status: standby');
    await nbctl('--wait=sb', 'ls-add', 'before-failover');
    await a.kill();
    await waitFor(async () => (await northdStatus(b.ctl)) === 'Status: active', { what: 'standby becomes active', timeoutMs: 20_000 });
    await nbctl('--wait=sb', 'ls-add', 'after-failover');
    const names = await sbctl('--bare', '--columns=external_ids', 'list', 'Datapath_Binding');
    assert.match(names, /name=before-failover/);
    assert.match(names, /name=after-failover/);
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('nested port tags: lowest free per parent, reuse, requests, withdrawal, kept across restarts', { timeout: 90_000 }, async () => {
  let d: OvntsNorthdHandle = await startOvntsNorthd(ctx());
  try {
    await nbctl('ls-add', 'tags', '--', 'lsp-add', 'tags', 'vmA', '--', 'lsp-add', 'tags', 'vmB');
    for (const c of ['a1', 'a2', 'a3']) await nbctl('--wait=sb', 'lsp-add', 'tags', c, 'vmA', '0');
    await nbctl('--wait=sb', 'lsp-add', 'tags', 'b1', 'vmB', '0');
    assert.deepEqual(await Promise.all(['a1', 'a2', 'a3', 'b1'].map(tagOf)), ['1', '2', '3', '1'], 'unique per parent only');
    await nbctl('--wait=sb', 'lsp-del', 'a2');
    await nbctl('--wait=sb', 'lsp-add', 'tags', 'a4', 'vmA', '0');
    assert.equal(await tagOf('a4'), '2', 'the freed tag is reused');
    await nbctl('--wait=sb', 'lsp-add', 'tags', 'a5', 'vmA', '7');
    assert.equal(await tagOf('a5'), '7', 'a request is copied');
    const sbTag = (await sbctl('--bare', '--columns=tag', 'find', 'Port_Binding', 'logical_port=a4')).trim();
    assert.equal(sbTag, '2', 'the SB binding carries the tag');
    assert.equal((await sbctl('--bare', '--columns=parent_port', 'find', 'Port_Binding', 'logical_port=a4')).trim(), 'vmA');
    await d.stop();
    d = await startOvntsNorthd(ctx());
    await nbctl('--wait=sb', 'lsp-add', 'tags', 'a6', 'vmA', '0');
    assert.deepEqual(await Promise.all(['a1', 'a3', 'a4', 'a5', 'a6'].map(tagOf)), ['1', '3', '2', '7', '4'], 'kept across a restart');
    await nbctl('--wait=sb', 'clear', 'Logical_Switch_Port', 'a5', 'tag_request');
    assert.equal(await tagOf('a5'), '', 'withdrawn request clears the tag');
  } finally {
    await d.stop();
  }
});

test('a bad ACL match is refused with a clear message; the rest keeps working', { timeout: 60_000 }, async () => {
  const d = await startOvntsNorthd(ctx());
  try {
    await nbctl('ls-add', 'acls', '--', 'lsp-add', 'acls', 'p1', '--', 'lsp-set-addresses', 'p1', '02:00:00:00:00:01 192.0.2.1');
    await nbctl('acl-add', 'acls', 'from-lport', '100', 'ip4.src == 1.2.3', 'drop');
    await nbctl('acl-add', 'acls', 'from-lport', '101', 'nosuchfield == 1', 'drop');
    await nbctl('--wait=sb', 'acl-add', 'acls', 'from-lport', '102', 'ip4.src == 192.0.2.99', 'drop');
    const flows = await sbctl('lflow-list', 'acls');
    assert.match(flows, /ip4\.src == 192\.0\.2\.99/, 'the good ACL has its flow');
    assert.doesNotMatch(flows, /1\.2\.3\)|nosuchfield/, 'the bad ones have none');
    const log = readFileSync(d.logFile, 'utf8');
    assert.match(log, /ACL [0-9a-f-]+ \(from-lport priority 100 "ip4\.src == 1\.2\.3"\): .+/);
    assert.match(log, /ACL [0-9a-f-]+ \(from-lport priority 101 "nosuchfield == 1"\): .*nosuchfield/);
    await nbctl('--wait=sb', 'lsp-add', 'acls', 'p2');
    assert.equal(await northdStatus(d.ctl), 'Status: active');
    assert.match(await sbctl('lflow-list', 'acls'), /outport = "p1"|inport == "p2"|p2/);
  } finally {
    await d.stop();
  }
});

test('flows changed or deleted in the SB by someone else are put back, live and across a restart', { timeout: 90_000 }, async () => {
  let d = await startOvntsNorthd(ctx());
  const lflows = (): Promise<string> => sbctl('lflow-list', 'repair');
  const flowUuid = async (match: string): Promise<string> => {
    const u = (await sbctl('--bare', '--columns=_uuid', 'find', 'Logical_Flow', `match="${match}"`)).trim().split('\n')[0] ?? '';
    assert.match(u, /^[0-9a-f-]{36}$/, `a flow with match ${match}`);
    return u;
  };
  const settled = async (want: string, what: string): Promise<void> => {
    await waitFor(async () => (await lflows()) === want, { what, timeoutMs: 20_000 });
    assert.equal((await runOk('ovn-appctl', ['-t', d.ctl, 'debug/recompute-check'])).trim(), 'incremental flows equal a full recompute');
  };
  try {
    await nbctl('ls-add', 'repair', '--', 'lsp-add', 'repair', 'r1', '--', 'lsp-set-addresses', 'r1', '02:00:00:00:01:01 192.0.2.11');
    await nbctl('--wait=sb', 'lsp-add', 'repair', 'r2', '--', 'lsp-set-addresses', 'r2', '02:00:00:00:01:02 192.0.2.12');
    const want = await lflows();
    const count = (await sbctl('--bare', '--columns=_uuid', 'list', 'Logical_Flow')).trim().split('\n').length;

    // While northd runs: one flow deleted, another's external_ids changed.
    await sbctl('destroy', 'Logical_Flow', await flowUuid('eth.dst == 02:00:00:00:01:01'));
    await sbctl('set', 'Logical_Flow', await flowUuid('eth.dst == 02:00:00:00:01:02'), 'external_ids:stage-name=tampered');
    await settled(want, 'the deleted flow back and the changed one repaired');
    assert.doesNotMatch(await sbctl('--bare', '--columns=external_ids', 'list', 'Logical_Flow'), /tampered/);

    // While northd is down: a flow deleted and a stray one added.
    await d.stop();
    await sbctl('destroy', 'Logical_Flow', await flowUuid('eth.dst == 02:00:00:00:01:02'));
    const dp = (await sbctl('--bare', '--columns=_uuid', 'find', 'Datapath_Binding', 'external_ids:name=repair')).trim();
    await sbctl(
      'create',
      'Logical_Flow',
      `logical_datapath=${dp}`,
      'pipeline=ingress',
      'table_id=0',
      'priority=1',
      'match="stray"',
      'actions="drop;"',
      'external_ids:stage-name=ls_in_check_port_sec',
    );
    d = await startOvntsNorthd(ctx());
    await settled(want, 'the SB as before after a restart');
    assert.equal((await sbctl('--bare', '--columns=_uuid', 'list', 'Logical_Flow')).trim().split('\n').length, count, 'no extra rows');

    // And incremental processing still works on the repaired SB.
    await nbctl('--wait=sb', 'lsp-del', 'r1');
    assert.doesNotMatch(await lflows(), /"r1"/);
    assert.equal((await runOk('ovn-appctl', ['-t', d.ctl, 'debug/recompute-check'])).trim(), 'incremental flows equal a full recompute');
  } finally {
    await d.stop();
  }
});
