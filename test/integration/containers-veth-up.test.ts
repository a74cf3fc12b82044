/**
 * container-create's veth: the host end is already up when it is handed to
 * the caller to plug into Open vSwitch. ovs-vswitchd sets IFF_PROMISC on a
 * new port by writing back the flags it read when it opened the device; an
 * `ip link set up` that lands in between is undone and the port stays down,
 * and the container never answers (bench:containers: one container in 16-50,
 * with ovnts and with neutron-server + ovn-northd + ovn-controller).
 *
 * The plug runs in a child Node inside a "host" namespace (`ip netns exec`,
 * so its /sys is that namespace's) into a "container" namespace held by a
 * sleep; the hand-over callback reads the host end's flags synchronously
 * from sysfs, at the moment ovs-vswitchd could first open the device.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createNetns, runId } from '../helpers/netns.js';
import { cleanupAll, run, runOk, spawnDaemon } from '../helpers/proc.js';
import { REPO } from '../helpers/ovsdb-servers.js';

const IFF_UP = 0x1;

/** Plugs, reading the host end's flags when the callback runs; prints them as JSON. */
const CHILD = `
import { readFileSync } from 'node:fs';
const [veth, pid, hostName, peerName] = process.argv.slice(1);
const { plugContainerInterface } = await import(veth);
const flags = () => Number(readFileSync('/sys/class/net/' + hostName + '/flags', 'utf8').trim());
let atHandOver;
await plugContainerInterface(Number(pid), {
  hostName, peerName, ifName: 'eth1', mac: '02:00:c6:33:64:07', address: '198.51.100.7/24', gateway: '198.51.100.1',
}, async () => { atHandOver = flags(); });
process.stdout.write(JSON.stringify({ atHandOver, after: flags() }));
`;

after(cleanupAll);

test('the host end is up before it is handed over to be plugged into OVS', async () => {
  const id = runId();
  const hostNs = await createNetns(`${id}-h`);
  const containerNs = await createNetns(`${id}-c`);
  const holder = await spawnDaemon('nsenter', [`--net=/run/netns/${containerNs}`, 'sleep', '600'], { name: 'container' });
  // Five plugs: without the fix the script usually, not always, loses the race to the callback.
  for (const n of [1, 2, 3, 4, 5]) {
    const hostName = `${id}h${n}`;
    const out = await runOk('ip', [
      'netns',
      'exec',
      hostNs,
      process.execPath,
      '--input-type=module',
      '-e',
      CHILD,
      join(REPO, 'dist', 'src', 'host', 'veth.js'),
      String(holder.pid),
      hostName,
      `${id}p${n}`,
    ]);
    const flags = JSON.parse(out) as { atHandOver: number; after: number };
    assert.equal(
      flags.atHandOver & IFF_UP,
      IFF_UP,
      `host end ${hostName} down (flags 0x${flags.atHandOver.toString(16)}) when handed over`,
    );
    assert.equal(flags.after & IFF_UP, IFF_UP, `host end ${hostName} down after the plug`);
    const inside = await runOk('nsenter', [`--net=/run/netns/${containerNs}`, 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth1']);
    assert.match(inside, /inet 198\.51\.100\.7\/24/);
    await run('ip', ['-n', hostNs, 'link', 'delete', hostName]);
  }
  await holder.stop();
});
