/**
 * Real podman 4.3 with its CNI backend runs ovnts-cni (conflist in its own
 * network_config_dir, the plugin found through cni_plugin_dirs): containers
 * on an ovnts network ping each other; `podman run --ip/--mac-address`
 * arrive in CNI_ARGS and are honoured; removal leaves no Neutron port, OVS
 * port, veth or netns; 50 containers created and each pinging a sample of
 * the others; and a container whose conmon is killed with -9 is cleaned up
 * by podman's DEL or, failing that, by GC. The plugin runs as a host runs
 * it: the thin client forwarding to the resident `ovnts cni-agent` (podman
 * passes its environment, OVNTS_CNI_SOCKET, on to the plugin).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupAll, run, spawnDaemon, type Daemon } from '../helpers/proc.js';
import { OVNTS } from '../helpers/ovsdb-servers.js';
import { podmanCni, startCniWorld, type CniWorld, type PodmanCni } from '../helpers/cni.js';
import { buildNetworkImage } from '../../src/host/network-image.js';

const IMAGE = 'localhost/ovnts-network:local';
const SUBNET = '203.0.113.0/24';

let w: CniWorld;
let pm: PodmanCni;
let net: string;
let netId: string;
let agent: Daemon | undefined;

before(async () => {
  w = await startCniWorld();
  const pidfile = join(w.dir, 'cni-agent.pid');
  const socket = join(w.dir, 'cni-agent.sock');
  agent = await spawnDaemon(OVNTS, ['cni-agent', `--socket=${socket}`, `--pidfile=${pidfile}`], {
    name: 'cni-agent',
    readyWhen: async () => existsSync(pidfile),
  });
  process.env['OVNTS_CNI_SOCKET'] = socket;
  pm = podmanCni(join(w.dir, 'podman'), w.pluginDir, w.confDir);
  // buildNetworkImage runs podman with this process's environment.
  Object.assign(process.env, pm.env);
  await buildNetworkImage('podman', IMAGE);
  net = `${w.id}-pn`;
  netId = await w.network(net, SUBNET);
  w.conflist(net, '1.0.0', { network: netId, capabilities: { ips: true, mac: true, aliases: true, portMappings: true } });
});

after(async () => {
  await pm?.stop();
  await agent?.stop();
  await w?.stop();
  await cleanupAll();
});

async function neutronPorts(): Promise<Array<{ id: string; device_id: string }>> {
  return (await w.api<{ ports: Array<{ id: string; device_id: string }> }>('GET', `/v2.0/ports?network_id=${netId}`)).ports;
}

async function ovsPorts(): Promise<string[]> {
  return (await w.ports()).filter((p) => p.startsWith('ovc'));
}

async function hostVeths(): Promise<string[]> {
  const out = (await run('ip', ['-n', w.hv, '-o', 'link', 'show'])).stdout;
  return [...out.matchAll(/^\d+: (ovc[0-9a-f]+)@/gm)].map((m) => m[1]!);
}

function podmanNetns(): string[] {
  try {
    return readdirSync('/run/netns').filter((n) => n.startsWith('netns-'));
  } catch {
    return [];
  }
}

async function ipOf(ctr: string): Promise<string> {
  const out = await pm.podman('exec', ctr, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0');
  return /inet (\d+\.\d+\.\d+\.\d+)\//.exec(out)?.[1] ?? '';
}

async function assertNothingLeft(what: string): Promise<void> {
  assert.deepEqual(await neutronPorts(), [], `${what}: Neutron ports`);
  assert.deepEqual(await ovsPorts(), [], `${what}: OVS ports`);
  assert.deepEqual(await hostVeths(), [], `${what}: veths`);
}

test(
  'podman run on an ovnts network: ping each other, --ip/--mac-address honoured, removal leaves nothing',
  { timeout: 300_000 },
  async () => {
    const netnsBefore = podmanNetns();
    const a = (await pm.podman('run', '-d', `--network=${net}`, IMAGE, 'sleep', '600')).trim();
    const b = (
      await pm.podman('run', '-d', `--network=${net}`, '--ip', '203.0.113.77', '--mac-address', '0a:00:00:00:dd:77', IMAGE, 'sleep', '600')
    ).trim();
    assert.equal(await ipOf(b), '203.0.113.77');
    assert.match(await pm.podman('exec', b, 'ip', '-o', 'link', 'show', 'dev', 'eth0'), /0a:00:00:00:dd:77/);
    const ipa = await ipOf(a);
    assert.match(ipa, /^203\.0\.113\./);
    // The first ping from a container whose ADD just returned.
    await pm.podman('exec', b, 'ping', '-c', '1', '-W', '2', ipa);
    await pm.podman('exec', a, 'ping', '-c', '1', '-W', '2', '203.0.113.77');
    // The Neutron ports are the containers'.
    assert.deepEqual((await neutronPorts()).map((p) => p.device_id).sort(), [a, b].sort());
    // podman run --rm: ADD, the command, DEL.
    const once = await pm.podman('run', '--rm', `--network=${net}`, IMAGE, 'ping', '-c', '1', '-W', '2', ipa);
    assert.match(once, /1 packets received/);
    await pm.podman('rm', '-f', '-t', '0', a, b);
    await assertNothingLeft('after podman rm');
    assert.deepEqual(podmanNetns(), netnsBefore, 'netns');
  },
);

test('50 containers on one network, each pings a sample of the others; all removed', { timeout: 900_000 }, async () => {
  const N = 50;
  const ids: string[] = [];
  // Four at a time, as several runtimes' workers would.
  for (let k = 0; k < N; k += 4) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(4, N - k) }, async () =>
        (await pm.podman('run', '-d', `--network=${net}`, IMAGE, 'sleep', '900')).trim(),
      ),
    );
    ids.push(...batch);
  }
  const ips = await Promise.all(ids.map(ipOf));
  assert.equal(new Set(ips).size, N, 'distinct addresses');
  assert.equal((await neutronPorts()).length, N);
  assert.equal((await ovsPorts()).length, N);
  for (let k = 0; k < N; k += 5) {
    await Promise.all(
      ids.slice(k, k + 5).map(async (id, j) => {
        const i = k + j;
        for (const d of [1, 7, 23]) await pm.podman('exec', id, 'ping', '-c', '1', '-W', '2', ips[(i + d) % N]!);
      }),
    );
  }
  await pm.podman('rm', '-f', '-t', '0', ...ids);
  await assertNothingLeft('after removing 50');
});

test('conmon killed with -9: podman rm and, for what it leaves, GC clean up', { timeout: 300_000 }, async () => {
  const keep = (await pm.podman('run', '-d', `--network=${net}`, IMAGE, 'sleep', '600')).trim();
  const victim = (await pm.podman('run', '-d', `--network=${net}`, IMAGE, 'sleep', '600')).trim();
  const conmon = Number((await pm.podman('inspect', '-f', '{{.State.ConmonPid}}', victim)).trim());
  const pid = Number((await pm.podman('inspect', '-f', '{{.State.Pid}}', victim)).trim());
  assert.ok(conmon > 0 && pid > 0);
  process.kill(conmon, 'SIGKILL');
  process.kill(pid, 'SIGKILL');
  // podman 4.3's first rm fails here ("container state improper: stopped"); a second one removes it.
  let rm = await pm.podmanRun('rm', '-f', '-t', '0', victim);
  for (let i = 0; i < 3 && rm.code !== 0; i++) rm = await pm.podmanRun('rm', '-f', '-t', '0', victim);
  assert.equal(rm.code, 0, rm.stderr);
  // Whatever podman's cleanup missed, GC with the attachments podman still has removes.
  const valid = (await pm.podman('ps', '-aq', '--no-trunc'))
    .split('\n')
    .filter((s) => s !== '')
    .map((containerID) => ({ containerID, ifname: 'eth0' }));
  assert.deepEqual(
    valid.map((v) => v.containerID),
    [keep],
  );
  const gc = await w.exec(
    { CNI_COMMAND: 'GC' },
    { cniVersion: '1.1.0', name: net, type: 'ovnts-cni', ...w.base, network: netId, 'cni.dev/valid-attachments': valid },
  );
  assert.equal(gc.code, 0, gc.stdout);
  assert.deepEqual(
    (await neutronPorts()).map((p) => p.device_id),
    [keep],
  );
  assert.equal((await ovsPorts()).length, 1);
  assert.equal((await hostVeths()).length, 1);
  await pm.podman('rm', '-f', '-t', '0', keep);
  await assertNothingLeft('after GC and rm');
});
