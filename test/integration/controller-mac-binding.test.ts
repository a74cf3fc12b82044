/**
 * put_arp's MAC_Binding written into a real SB ovsdb-server (ovn-sb(5)
 * MAC_Binding): inserted once with the datapath and logical port found by
 * their tunnel keys, updated in place when the MAC changes, nothing written
 * for unknown keys. Read back with the real ovn-sbctl.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { socketAccepts } from '../helpers/ovs.js';
import { SB_SCHEMA } from '../helpers/ovsdb-servers.js';
import { cleanupAll, runOk, spawnDaemon, tmpDir } from '../helpers/proc.js';
import { OvsdbClient } from '../../src/ovsdb/client.js';
import { writeMacBinding } from '../../src/controller/packet-in.js';

after(cleanupAll);

test('writeMacBinding: insert, update, unknown keys', { timeout: 60_000 }, async () => {
  const tmp = tmpDir('ovnts-ctl-macb');
  const sock = join(tmp.path, 'sb.sock');
  await runOk('ovsdb-tool', ['create', join(tmp.path, 'sb.db'), SB_SCHEMA]);
  const server = await spawnDaemon(
    'ovsdb-server',
    [join(tmp.path, 'sb.db'), `--remote=punix:${sock}`, `--unixctl=${join(tmp.path, 'sb.ctl')}`, '--no-chdir', '-vconsole:err'],
    {
      readyWhen: () => socketAccepts(sock),
    },
  );
  const sbctl = (...a: string[]): Promise<string> => runOk('ovn-sbctl', [`--db=unix:${sock}`, ...a]);
  const sb = new OvsdbClient({ remotes: `unix:${sock}`, database: 'OVN_Southbound' });
  try {
    const dp = (await sbctl('create', 'Datapath_Binding', 'tunnel_key=5')).trim();
    await sbctl('create', 'Port_Binding', 'logical_port=lrp1', `datapath=${dp}`, 'tunnel_key=2');
    await sb.start();
    await sb.waitUntil(() => sb.table('Port_Binding').size === 1);
    assert.equal(await writeMacBinding(sb, { datapathKey: 5, portKey: 2, ip: '192.0.2.7', mac: '02:00:00:00:00:07' }, 1000), true);
    await sb.waitUntil(() => sb.table('MAC_Binding').size === 1);
    const row = (): Promise<string> => sbctl('--bare', '--columns=logical_port,ip,mac,datapath,timestamp', 'list', 'MAC_Binding');
    assert.equal((await row()).trim(), ['lrp1', '192.0.2.7', '02:00:00:00:00:07', dp, '1000'].join('\n'));
    assert.equal(await writeMacBinding(sb, { datapathKey: 5, portKey: 2, ip: '192.0.2.7', mac: '02:00:00:00:00:08' }, 2000), true);
    await sb.waitUntil(() => [...sb.table('MAC_Binding').values()].some((r) => r.scalar('mac') === '02:00:00:00:00:08'));
    assert.equal((await row()).trim(), ['lrp1', '192.0.2.7', '02:00:00:00:00:08', dp, '2000'].join('\n'));
    assert.equal(await writeMacBinding(sb, { datapathKey: 6, portKey: 2, ip: '192.0.2.9', mac: '02:00:00:00:00:09' }), false);
    assert.equal(await writeMacBinding(sb, { datapathKey: 5, portKey: 9, ip: '192.0.2.9', mac: '02:00:00:00:00:09' }), false);
    assert.equal((await sbctl('--bare', '--columns=ip', 'list', 'MAC_Binding')).trim(), '192.0.2.7');
  } finally {
    await sb.stop();
    await server.stop();
    tmp.cleanup();
  }
});
