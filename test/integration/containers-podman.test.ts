/**
 * ovn-container with podman: without a dockerd it picks podman by itself
 * (and --runtime=podman asks for it), builds the network image into
 * podman's store, and `podman run --network=container:ID` joins the network
 * container: two such containers on one host ping each other over the
 * overlay network; endpoint-delete removes the network containers.
 * Central node: `ovnts up --listen`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runId } from '../helpers/netns.js';
import { cleanupAll, tmpDir, waitFor } from '../helpers/proc.js';
import {
  createUnderlay,
  okLines,
  podmanIn,
  prepareHost,
  startCentral,
  startContainerHost,
  type Central,
  type ContainerHost,
  type Podman,
} from '../helpers/containers.js';

const CENTRAL_IP = '192.0.2.10';
const IMAGE = 'localhost/ovnts-network:local';

let pm: Podman;
let central: Central;
let host: ContainerHost;
const lines: string[] = [];
const log = (l: string): void => void lines.push(l);

before(async () => {
  const dir = tmpDir('ovnts-podman').path;
  pm = podmanIn(join(dir, 'podman'));
  const id = runId();
  await createUnderlay(`${id}-c`, CENTRAL_IP);
  central = await startCentral('ovnts', join(dir, 'central'), `${id}-c`, CENTRAL_IP, log);
  host = await startContainerHost(`${id}-h`, '192.0.2.1', `${id}-c`, pm.env, log);
  await prepareHost(host, CENTRAL_IP, 'geneve');
  await host.startController(join(dir, 'ctl'), log);
});

after(async () => {
  await pm?.stop();
  await host?.stop();
  await central?.stop();
  await cleanupAll();
});

test(
  'podman: detected without dockerd, network containers joined with --network=container:ID ping each other',
  { timeout: 600_000 },
  async () => {
    okLines(await host.container('init', '--bridge', 'br-int', '--overlay-mode'), 'init');
    okLines(await host.container('net-create', 'pn', '192.168.5.0/24'), 'net-create');
    const apps: string[] = [];
    const ips: string[] = [];
    for (const [name, args] of [
      ['pn0', []],
      ['pn1', ['--runtime=podman']],
    ] as const) {
      okLines(await host.container('endpoint-create', 'pn', name), 'endpoint-create');
      const nc = okLines(await host.container(...args, 'container-create', `--network=${name}`), 'container-create');
      assert.equal(nc.length, 1);
      assert.match((await pm.podman('inspect', '-f', '{{.Name}}', nc[0]!)).trim(), /^network_[0-9a-f]{15}$/);
      apps.push((await pm.podman('run', '-d', `--network=container:${nc[0]!}`, IMAGE, 'sleep', '600')).trim());
      ips.push(
        /inet (\d+\.\d+\.\d+\.\d+)\//.exec(await pm.podman('exec', apps.at(-1)!, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1'))?.[1] ??
          '',
      );
    }
    assert.match(ips[0]!, /^192\.168\.5\./);
    await waitFor(
      async () =>
        pm.podman('exec', apps[0]!, 'ping', '-c', '1', '-W', '1', ips[1]!).then(
          () => true,
          () => false,
        ),
      { what: 'ping', timeoutMs: 60_000 },
    );
    for (const app of apps) await pm.podman('rm', '-f', '-t', '0', app);
    for (const name of ['pn0', 'pn1']) okLines(await host.container('endpoint-delete', name), 'endpoint-delete');
    okLines(await host.container('net-delete', 'pn'), 'net-delete');
    assert.equal((await pm.podman('ps', '-aq')).trim(), '');
    assert.deepEqual(
      (await host.ovs.vsctl('list-ports', 'br-int')).split('\n').filter((p) => p.endsWith('_l')),
      [],
    );
  },
);
