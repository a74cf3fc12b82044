/**
 * Seed 004, overlay mode, command for command: a central node (OVN databases
 * on IP:6641/6642, the IPAM on IP:9696) and two hosts, each its own
 * namespace with its own OVS and `ovnts controller`, run the seed's
 * commands in the seed's order; network containers made by `ovn-container
 * container-create` are joined by application containers (`docker run
 * --net=container:ID`) that ping each other across Geneve and across VXLAN;
 * endpoint-delete and net-delete leave nothing behind (no OVS port, veth,
 * bridge key, container, Neutron or NB row). The IPAM here is the real
 * neutron-server with ML2/OVN, which the 2015 tools talked to.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runId } from '../helpers/netns.js';
import { cleanupAll, tmpDir, waitFor } from '../helpers/proc.js';
import {
  createUnderlay,
  okLines,
  prepareHost,
  startCentral,
  startContainerHost,
  startDockerd,
  type Central,
  type CentralKind,
  type ContainerHost,
  type Dockerd,
} from '../helpers/containers.js';

const CENTRAL_IP = '192.0.2.10';
const IMAGE = 'ovnts-network:local';

let dir: string;
let dockerd: Dockerd;
const lines: string[] = [];
const log = (l: string): void => void lines.push(l);

before(async () => {
  dir = tmpDir('ovnts-containers').path;
  dockerd = await startDockerd(join(dir, 'docker'));
});

after(async () => {
  await dockerd?.stop();
  await cleanupAll();
});

/** Host keys that belong to no endpoint (the controller keeps ct-zone-* and ovn-nb-cfg* on br-int). */
function leftoverKeys(out: string): string[] {
  return out
    .trim()
    .split('\n')
    .filter((l) => l !== '' && !/^(bridge-id|ct-zone-[^=]*|ovn-nb-cfg|ovn-nb-cfg-ts)=/.test(l));
}

async function assertNothingLeft(h: ContainerHost): Promise<void> {
  assert.deepEqual(leftoverKeys(await h.ovs.vsctl('br-get-external-id', 'br-int')), [], `${h.ns}: br-int external_ids`);
  const ports = (await h.ovs.vsctl('list-ports', 'br-int')).split('\n').filter((p) => p.endsWith('_l'));
  assert.deepEqual(ports, [], `${h.ns}: endpoint ports on br-int`);
  const links = okLines(await h.sh('ip', ['-o', 'link']), 'ip link').filter((l) => /_l[@:]/.test(l));
  assert.deepEqual(links, [], `${h.ns}: endpoint veths`);
}

// The IPAM and OVN databases of the central node: ovnts (`ovnts up --listen`), and the real neutron-server the 2015 tools used.
for (const kind of ['ovnts', 'neutron'] as const satisfies readonly CentralKind[])
  describe(`central node: ${kind}`, () => {
    let central: Central;
    let centralNs: string;
    before(async () => {
      centralNs = `${runId()}-c`;
      await createUnderlay(centralNs, CENTRAL_IP);
      central = await startCentral(kind, join(dir, `central-${kind}`), centralNs, CENTRAL_IP, log);
    });
    after(async () => {
      await central?.stop();
    });
    for (const encap of ['geneve', 'vxlan'] as const) {
      test(`seed 004 overlay over ${encap}: two hosts, containers ping across, nothing left behind`, { timeout: 600_000 }, async () => {
        const id = runId();
        const hosts: ContainerHost[] = [];
        const apps: string[] = [];
        try {
          for (const [n, ip] of [
            ['a', '192.0.2.1'],
            ['b', '192.0.2.2'],
          ] as const) {
            const h = await startContainerHost(`${id}-${n}`, ip, centralNs, dockerd.env, log);
            hosts.push(h);
            await prepareHost(h, CENTRAL_IP, encap);
            assert.equal((await h.ovs.vsctl('get', 'Open_vSwitch', '.', 'external_ids:ovn-remote')).trim(), `"tcp:${CENTRAL_IP}:6642"`);
            await h.startController(join(dir, `${id}-${n}-ctl`), log);
            okLines(await h.container('init', '--bridge', 'br-int', '--overlay-mode'), 'init');
          }
          const [a, b] = hosts as [ContainerHost, ContainerHost];
          const created = okLines(await a.container('net-create', 'ls0', '192.168.1.0/24'), 'net-create');
          assert.equal(created.length, 3, created.join('\n'));
          assert.deepEqual(created.slice(0, 2), ['creating neutron network', 'creating neutron subnetwork']);
          const netId = created[2]!;
          assert.match(netId, /^[0-9a-f-]{36}$/);
          assert.ok(okLines(await b.container('net-list'), 'net-list').some((l) => l.includes(netId) && l.includes('192.168.1.0/24')));

          const eps: string[] = [];
          const ncs: string[] = [];
          for (const [h, name] of [
            [a, 'ls0p0'],
            [b, 'ls0p1'],
          ] as const) {
            const out = okLines(await h.container('endpoint-create', 'ls0', name), 'endpoint-create');
            assert.equal(out.length, 2);
            assert.equal(out[0], 'creating neutron port.');
            eps.push(out[1]!);
          }
          assert.ok(okLines(await a.container('endpoint-list'), 'endpoint-list').filter((l) => l.includes('ls0p')).length === 2);
          // The 2015 tool ran the neutron CLI for its lists: the same tables as today's neutron CLI prints.
          const neutronCli = { OS_AUTH_TYPE: 'none', OS_ENDPOINT: `http://${CENTRAL_IP}:9696` };
          for (const [ours, theirs] of [
            ['net-list', 'net-list'],
            ['endpoint-list', 'port-list'],
          ] as const) {
            assert.equal(
              okLines(await a.container(ours), ours).join('\n'),
              okLines(await a.sh('neutron', [theirs], neutronCli), `neutron ${theirs}`).join('\n'),
            );
          }
          for (const [h, name] of [
            [a, 'ls0p0'],
            [b, 'ls0p1'],
          ] as const) {
            const out = okLines(await h.container('container-create', `--network=${name}`), 'container-create');
            assert.equal(out.length, 1, `container-create prints only the id: ${out.join('\n')}`);
            assert.match(out[0]!, /^[0-9a-f]{64}$/);
            ncs.push(out[0]!);
          }
          // The seed's application containers join the network containers.
          for (const nc of ncs) apps.push((await dockerd.docker('run', '-d', `--net=container:${nc}`, IMAGE, 'sleep', '600')).trim());
          const addr = async (app: string): Promise<string> => {
            const out = await dockerd.docker('exec', app, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1');
            return /inet (\d+\.\d+\.\d+\.\d+)\//.exec(out)?.[1] ?? '';
          };
          const ipA = await addr(apps[0]!);
          const ipB = await addr(apps[1]!);
          assert.match(ipA, /^192\.168\.1\./);
          assert.match(ipB, /^192\.168\.1\./);
          // The default route is the subnet's gateway; lo is up.
          const routes = await dockerd.docker('exec', apps[0]!, 'ip', 'route');
          assert.match(routes, /default via 192\.168\.1\.1 dev eth1/);
          assert.match(await dockerd.docker('exec', apps[0]!, 'ip', '-o', 'link', 'show', 'lo'), /UP|LOOPBACK,UP/);
          for (const ep of eps)
            await waitFor(async () => (await central.nbctl('get', 'Logical_Switch_Port', ep, 'up')).trim() === 'true', {
              what: `${ep} up`,
              timeoutMs: 90_000,
            });
          const tunnels = await a.ovs.vsctl('--bare', '--columns=name', 'find', 'Interface', `type=${encap}`);
          assert.notEqual(tunnels.trim(), '', `host a has a ${encap} tunnel`);
          for (const [app, dest] of [
            [apps[0]!, ipB],
            [apps[1]!, ipA],
          ] as const) {
            await waitFor(
              async () => {
                const r = await dockerd.docker('exec', app, 'ping', '-c', '1', '-W', '1', dest).then(
                  () => true,
                  () => false,
                );
                return r;
              },
              { what: `ping ${dest}`, timeoutMs: 30_000 },
            );
            await dockerd.docker('exec', app, 'ping', '-c', '3', '-i', '0.2', '-W', '2', dest);
          }

          // Tear down as the seed does: the applications first, then the endpoints and the network.
          for (const app of apps.splice(0)) await dockerd.docker('rm', '-f', app);
          for (const [h, name] of [
            [a, 'ls0p0'],
            [b, 'ls0p1'],
          ] as const) {
            assert.deepEqual(okLines(await h.container('endpoint-delete', name), 'endpoint-delete'), ['deleted neutron port']);
            // Safe to repeat (by UUID: the port is gone, nothing local is left).
            okLines(await h.container('endpoint-delete', eps[name === 'ls0p0' ? 0 : 1]!), 'endpoint-delete again');
          }
          assert.deepEqual(okLines(await a.container('net-delete', 'ls0'), 'net-delete'), ['deleting neutron network']);
          for (const nc of ncs)
            assert.equal((await dockerd.docker('ps', '-aq', '--no-trunc', '--filter', `id=${nc}`)).trim(), '', 'network container removed');
          for (const h of hosts) await assertNothingLeft(h);
          assert.deepEqual(await central.neutronList('ports'), []);
          assert.deepEqual(await central.neutronList('networks'), []);
          assert.equal((await central.nbctl('--bare', '--columns=name', 'list', 'Logical_Switch_Port')).trim(), '');
        } catch (e) {
          throw new Error(`${(e as Error).message}\nlog:\n${lines.slice(-30).join('\n')}`);
        } finally {
          for (const app of apps) await dockerd.docker('rm', '-f', app).catch(() => undefined);
          for (const h of hosts) await h.stop();
        }
      });
    }
  });
