/**
 * The real `ovn-appctl` against `ovnts controller`'s control socket
 * (ovn-controller(8) "Runtime Management Commands"): connection-status,
 * ct-zone-list (the zones it keeps in br-int's external_ids), an unknown
 * command's error as the real daemon words it, list-commands' layout, and
 * `exit`, which releases the chassis' ports and removes its rows as 23.03 does.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createNetns, runId } from '../helpers/netns.js';
import { startOvs } from '../helpers/ovs.js';
import { startCentral, setChassisConfig, startOvntsControllerWithSocket } from '../helpers/chassis.js';
import { cleanupAll, run, tmpDir, waitFor } from '../helpers/proc.js';

after(cleanupAll);

test('ovn-appctl against ovnts controller: connection-status, ct-zone-list, errors, exit', { timeout: 120_000 }, async () => {
  const tmp = tmpDir('ovnts-ctl-appctl');
  const dir = tmp.path;
  const lines: string[] = [];
  const log = (l: string): void => void lines.push(l);
  const central = await startCentral(dir, { log });
  const { dbs, nb, sb } = central;
  const id = runId();
  const ns = await createNetns(`${id}-hv`);
  const ovs = await startOvs({ netns: ns, log });
  const systemId = `${id}-chassis`;
  await setChassisConfig(ovs, { systemId, sbRemote: dbs.sbRemote });
  const { daemon: d, sock } = await startOvntsControllerWithSocket(ovs, dir, log);
  const appctl = (...a: string[]): ReturnType<typeof run> => run('ovn-appctl', ['-t', sock, ...a]);
  try {
    await waitFor(async () => (await appctl('connection-status')).stdout === 'connected\n', { what: 'connection-status connected' });
    await nb('ls-add', 'sw');
    await nb('lsp-add', 'sw', 'p1');
    await nb('lsp-add', 'sw', 'p1c', 'p1', '42');
    await ovs.vsctl('add-port', 'br-int', 'p1', '--', 'set', 'Interface', 'p1', 'type=internal', 'external_ids:iface-id=p1');
    const dp = (await sb('--bare', '--columns=_uuid', 'list', 'Datapath_Binding')).trim();
    const zones = await waitFor(
      async () => {
        const out = (await appctl('ct-zone-list')).stdout;
        return out.split('\n').filter((l) => l !== '').length === 4 ? out : undefined;
      },
      { what: 'four ct zones' },
    );
    const parsed = new Map(
      zones
        .trim()
        .split('\n')
        .map((l) => l.split(' ') as [string, string]),
    );
    assert.deepEqual([...parsed.keys()].sort(), [`${dp}_dnat`, `${dp}_snat`, 'p1', 'p1c'].sort());
    assert.equal(new Set(parsed.values()).size, 4, 'distinct zones');
    for (const [name, zone] of parsed) {
      assert.equal((await ovs.vsctl('get', 'Bridge', 'br-int', `external_ids:ct-zone-${name}`)).trim(), `"${zone}"`);
    }

    const bogus = await appctl('bogus');
    assert.equal(bogus.code, 2);
    assert.equal(bogus.stderr.split('\n')[0], '"bogus" is not a valid command (use "list-commands" to see a list of valid commands)');
    const cmds = (await appctl('list-commands')).stdout;
    assert.match(cmds, /^The available commands are:\n/);
    assert.match(cmds, /\n {2}connection-status {7}\n/);
    assert.match(cmds, /\n {2}ct-zone-list {12}\n/);

    // exit: ports released (up untouched, as 23.03 leaves it), chassis rows gone, process gone.
    await waitFor(async () => (await sb('--bare', '--columns=chassis', 'find', 'Port_Binding', 'logical_port=p1')).trim() !== '', {
      what: 'p1 claimed',
    });
    const r = await appctl('exit');
    assert.equal(r.code, 0, r.stderr);
    await d.exited;
    assert.equal((await sb('--bare', '--columns=chassis', 'find', 'Port_Binding', 'logical_port=p1')).trim(), '');
    assert.equal((await sb('--bare', '--columns=chassis', 'find', 'Port_Binding', 'logical_port=p1c')).trim(), '');
    assert.equal((await sb('--bare', '--columns=name', 'list', 'Chassis')).trim(), '');
    assert.equal((await sb('--bare', '--columns=name', 'list', 'Chassis_Private')).trim(), '');
    assert.equal((await sb('--bare', '--columns=ip', 'list', 'Encap')).trim(), '');
  } finally {
    await d.stop();
    await ovs.stop();
    await central.stop();
    tmp.cleanup();
  }
});
