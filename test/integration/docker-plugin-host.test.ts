/**
 * `ovnts docker-plugin` under a real dockerd (20.10, its own data root and
 * socket): `docker network create -d DRIVER --ipam-driver DRIVER --subnet`
 * makes the Neutron network; `docker run --network` containers get the
 * IPAM's addresses, `--ip`/`--mac-address` are honoured, they ping each
 * other as soon as they run; removal leaves no Neutron port, OVS port or
 * veth, and `docker network rm` removes the Neutron network. The daemon
 * starts with --detach/--pidfile/--log-file and exits on SIGTERM. A restart
 * of the daemon between CreateEndpoint and Join (forced by a relay in front
 * of its socket) loses no endpoint. Dual-stack networks (`--ipv6`): each
 * endpoint one Neutron port with both addresses, stateful or SLAAC, and
 * containers ping6 each other.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { cleanupAll, run, runOk, waitFor } from '../helpers/proc.js';
import { startCniWorld, type CniWorld } from '../helpers/cni.js';
import { startDockerd, type Dockerd } from '../helpers/containers.js';
import { OVNTS } from '../helpers/ovsdb-servers.js';
import { buildNetworkImage } from '../../src/host/network-image.js';

const IMAGE = 'ovnts-network:local';

let w: CniWorld;
let dockerd: Dockerd;
let driver: string;
let socket: string;
let pidfile: string;

before(async () => {
  w = await startCniWorld();
  dockerd = await startDockerd(join(w.dir, 'docker'));
  Object.assign(process.env, dockerd.env);
  await buildNetworkImage('docker', IMAGE);
  driver = `ovnts${w.id}`;
  socket = `/run/docker/plugins/${driver}.sock`;
  pidfile = join(w.dir, 'plugin.pid');
  await startPlugin();
});

async function startPlugin(): Promise<void> {
  const r = await run(OVNTS, [
    'docker-plugin',
    `--socket=${socket}`,
    `--ipam=${w.url}`,
    `--ovs-db=${w.ovs.dbRemote}`,
    `--ovs-netns=/run/netns/${w.hv}`,
    '--detach',
    `--pidfile=${pidfile}`,
    `--log-file=${join(w.dir, 'plugin.log')}`,
  ]);
  assert.equal(r.code, 0, r.stderr);
}

/** Stops the plugin daemon (SIGTERM) and starts it again: its in-memory state is gone. */
async function restartPlugin(): Promise<void> {
  process.kill(Number(readFileSync(pidfile, 'utf8')), 'SIGTERM');
  await waitFor(() => !existsSync(pidfile), { what: 'the plugin to stop' });
  await startPlugin();
}

after(async () => {
  await dockerd?.docker('rm', '-f', ...(await dockerd.docker('ps', '-aq')).split('\n').filter((s) => s !== '')).catch(() => undefined);
  if (pidfile !== undefined && existsSync(pidfile)) process.kill(Number(readFileSync(pidfile, 'utf8')), 'SIGTERM');
  await dockerd?.stop();
  await w?.stop();
  await cleanupAll();
});

/**
 * A relay on `/run/docker/plugins/NAME.sock` (so Docker sees driver NAME)
 * passing every request on to the plugin's socket; when armed, it restarts
 * the plugin before it passes on the next Join — so the Join reaches a
 * plugin that never saw that endpoint's CreateEndpoint.
 */
async function restartingRelay(name: string): Promise<{ arm(): void; restarts(): number; close(): Promise<void> }> {
  let armed = false;
  let restarts = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        if (armed && req.url === '/NetworkDriver.Join') {
          armed = false;
          await restartPlugin();
          restarts++;
        }
        const body = Buffer.concat(chunks);
        const fwd = http.request(
          { socketPath: socket, path: req.url, method: req.method, headers: { 'content-length': String(body.length) } },
          (up) => {
            res.writeHead(up.statusCode ?? 502, { 'content-type': up.headers['content-type'] ?? 'application/json' });
            up.pipe(res);
          },
        );
        fwd.on('error', (e) => res.writeHead(502).end(JSON.stringify({ Err: e.message })));
        fwd.end(body);
      })();
    });
  });
  const path = `/run/docker/plugins/${name}.sock`;
  await new Promise<void>((r) => server.listen(path, r));
  return {
    arm: () => void (armed = true),
    restarts: () => restarts,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** The modified EUI-64 address of `mac` in the /64 of `prefix` (SLAAC), in canonical form. */
function eui64(prefix: string, mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  const g = (hi: number, lo: number): string => ((hi << 8) | lo).toString(16);
  return canonical6(`${prefix}:${g(b[0]! ^ 2, b[1]!)}:${g(b[2]!, 0xff)}:${g(0xfe, b[3]!)}:${g(b[4]!, b[5]!)}`);
}

function canonical6(addr: string): string {
  return new URL(`http://[${addr}]/`).hostname.slice(1, -1);
}

async function neutron<T>(path: string): Promise<T> {
  return w.api<T>('GET', path);
}

test(
  'docker network create -d / docker run --network on the ovnts IPAM: addresses, --ip/--mac-address, pings, clean removal',
  { timeout: 300_000 },
  async () => {
    // Debian's docker 20.10 client: the newer one on PATH refuses --mac-address against API 1.41.
    const d = (...args: string[]): Promise<string> => runOk('/usr/bin/docker', args, { env: dockerd.env, timeoutMs: 60_000 });
    const name = `${w.id}-dn`;
    const netId = (
      await d('network', 'create', '-d', driver, '--ipam-driver', driver, '--subnet', '192.0.2.0/24', '--gateway', '192.0.2.1', name)
    ).trim();
    const nets = (
      await neutron<{ networks: Array<{ id: string; name: string; subnets: string[] }> }>(`/v2.0/networks?name=docker-${netId}`)
    ).networks;
    assert.equal(nets.length, 1, 'the Neutron network is named after the Docker network');
    const nid = nets[0]!.id;
    const a = (await d('run', '-d', '--network', name, IMAGE, 'sleep', '600')).trim();
    const b = (
      await d('run', '-d', '--network', name, '--ip', '192.0.2.77', '--mac-address', '0a:00:00:00:ee:77', IMAGE, 'sleep', '600')
    ).trim();
    const addrOf = async (c: string): Promise<string> =>
      /inet (\d+\.\d+\.\d+\.\d+)\//.exec(await d('exec', c, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0'))?.[1] ?? '';
    assert.equal(await addrOf(b), '192.0.2.77');
    assert.match(await d('exec', b, 'ip', '-o', 'link', 'show', 'dev', 'eth0'), /0a:00:00:00:ee:77/);
    const ipa = await addrOf(a);
    assert.match(ipa, /^192\.0\.2\./);
    assert.match(await d('exec', a, 'ip', 'route', 'show', 'default'), /default via 192\.0\.2\.1/);
    const ports = (
      await neutron<{ ports: Array<{ mac_address: string; fixed_ips: Array<{ ip_address: string }>; device_owner: string }> }>(
        `/v2.0/ports?network_id=${nid}&device_owner=compute:container`,
      )
    ).ports;
    assert.deepEqual(ports.map((p) => p.fixed_ips[0]!.ip_address).sort(), [ipa, '192.0.2.77'].sort());
    assert.ok(ports.some((p) => p.mac_address === '0a:00:00:00:ee:77'));
    await d('exec', a, 'ping', '-c', '1', '-W', '2', '192.0.2.77');
    await d('exec', b, 'ping', '-c', '1', '-W', '2', ipa);
    await d('rm', '-f', a, b);
    assert.deepEqual((await neutron<{ ports: unknown[] }>(`/v2.0/ports?network_id=${nid}&device_owner=compute:container`)).ports, []);
    assert.deepEqual(
      (await w.ports()).filter((p) => p.startsWith('ovd')),
      [],
    );
    assert.doesNotMatch((await run('ip', ['-n', w.hv, '-o', 'link'])).stdout, /ovd[0-9a-f]{12}/);
    assert.doesNotMatch((await run('ip', ['-o', 'link'])).stdout, /ovc[0-9a-f]{12}/);
    await d('network', 'rm', name);
    assert.deepEqual((await neutron<{ networks: unknown[] }>(`/v2.0/networks?id=${nid}`)).networks, []);
  },
);

test(
  "with Docker's own IPAM: the driver makes the Neutron network, subnet (Docker's gateway) and ports for Docker's addresses",
  { timeout: 300_000 },
  async () => {
    const d = (...args: string[]): Promise<string> => runOk('/usr/bin/docker', args, { env: dockerd.env, timeoutMs: 60_000 });
    const name = `${w.id}-dd`;
    const netId = (await d('network', 'create', '-d', driver, '--subnet', '203.0.113.0/24', '--gateway', '203.0.113.254', name)).trim();
    const nets = (await neutron<{ networks: Array<{ id: string; subnets: string[] }> }>(`/v2.0/networks?name=docker-${netId}`)).networks;
    assert.equal(nets.length, 1);
    const subnet = (await neutron<{ subnet: { cidr: string; gateway_ip: string } }>(`/v2.0/subnets/${nets[0]!.subnets[0]!}`)).subnet;
    assert.deepEqual([subnet.cidr, subnet.gateway_ip], ['203.0.113.0/24', '203.0.113.254']);
    const a = (await d('run', '-d', '--network', name, '--ip', '203.0.113.5', IMAGE, 'sleep', '600')).trim();
    const b = (await d('run', '-d', '--network', name, IMAGE, 'sleep', '600')).trim();
    await d('exec', b, 'ping', '-c', '1', '-W', '2', '203.0.113.5');
    const ports = (
      await neutron<{ ports: Array<{ fixed_ips: Array<{ ip_address: string }> }> }>(
        `/v2.0/ports?network_id=${nets[0]!.id}&device_owner=compute:container`,
      )
    ).ports;
    assert.equal(ports.length, 2);
    assert.ok(ports.some((p) => p.fixed_ips[0]!.ip_address === '203.0.113.5'));
    // A restart between create and delete: the driver finds its endpoints' ports again (none leaks).
    await restartPlugin();
    await d('rm', '-f', a, b);
    assert.deepEqual(
      (await neutron<{ ports: unknown[] }>(`/v2.0/ports?network_id=${nets[0]!.id}&device_owner=compute:container`)).ports,
      [],
    );
    await d('network', 'rm', name);
    assert.deepEqual((await neutron<{ networks: unknown[] }>(`/v2.0/networks?name=docker-${netId}`)).networks, []);
  },
);

test(
  "a plugin restart between CreateEndpoint and Join: Join finds the endpoint of the IPAM driver's address",
  { timeout: 300_000 },
  async (t) => {
    const d = (...args: string[]): Promise<string> => runOk('/usr/bin/docker', args, { env: dockerd.env, timeoutMs: 120_000 });
    const relayed = `${driver}r`;
    const relay = await restartingRelay(relayed);
    t.after(() => relay.close());
    const name = `${w.id}-dr`;
    const netId = (await d('network', 'create', '-d', relayed, '--ipam-driver', relayed, '--subnet', '192.0.2.0/24', name)).trim();
    const nid = (await neutron<{ networks: Array<{ id: string }> }>(`/v2.0/networks?name=docker-${netId}`)).networks[0]!.id;
    const a = (await d('run', '-d', '--network', name, IMAGE, 'sleep', '600')).trim();
    relay.arm();
    const b = (await d('run', '-d', '--network', name, '--ip', '192.0.2.99', IMAGE, 'sleep', '600')).trim();
    assert.equal(relay.restarts(), 1, 'the plugin was restarted between CreateEndpoint and Join');
    await d('exec', a, 'ping', '-c', '1', '-W', '2', '192.0.2.99');
    const ports = (await neutron<{ ports: Array<{ device_id: string }> }>(`/v2.0/ports?network_id=${nid}&device_owner=compute:container`))
      .ports;
    assert.equal(ports.length, 2);
    assert.ok(
      ports.every((p) => /^[0-9a-f]{64}$/.test(p.device_id)),
      'each port is marked with its endpoint',
    );
    await d('rm', '-f', a, b);
    assert.deepEqual((await neutron<{ ports: unknown[] }>(`/v2.0/ports?network_id=${nid}&device_owner=compute:container`)).ports, []);
    assert.deepEqual(
      (await w.ports()).filter((p) => p.startsWith('ovd')),
      [],
    );
    await d('network', 'rm', name);
    assert.deepEqual((await neutron<{ networks: unknown[] }>(`/v2.0/networks?id=${nid}`)).networks, []);
  },
);

test('dual-stack networks (--ipv6): stateful and SLAAC IPv6 pools, one port per endpoint, ping6', { timeout: 300_000 }, async () => {
  const d = (...args: string[]): Promise<string> => runOk('/usr/bin/docker', args, { env: dockerd.env, timeoutMs: 120_000 });
  type Port = { mac_address: string; fixed_ips: Array<{ ip_address: string }> };
  const addr6 = async (c: string): Promise<string> =>
    /inet6 ([0-9a-f:]+)\/64 scope global/.exec(await d('exec', c, 'ip', '-o', '-6', 'addr', 'show', 'dev', 'eth0'))?.[1] ?? '';
  const cases = [
    { v6: 'fd00:0:0:1::/64', opts: ['--gateway', '192.0.2.1', '--gateway', 'fd00:0:0:1::1'] },
    { v6: 'fd00:0:0:2::/64', opts: ['--ipam-opt', 'ipv6_address_mode=slaac', '--ipam-opt', 'ipv6_ra_mode=slaac'] },
  ];
  for (const { v6, opts } of cases) {
    const slaac = opts.includes('ipv6_address_mode=slaac');
    const name = `${w.id}-d6${slaac ? 's' : ''}`;
    const netId = (
      await d(
        'network',
        'create',
        '-d',
        driver,
        '--ipam-driver',
        driver,
        '--ipv6',
        '--subnet',
        '192.0.2.0/24',
        '--subnet',
        v6,
        ...opts,
        name,
      )
    ).trim();
    const net = (await neutron<{ networks: Array<{ id: string; subnets: string[] }> }>(`/v2.0/networks?name=docker-${netId}`)).networks[0]!;
    assert.equal(net.subnets.length, 2, 'both pools on the one Neutron network');
    assert.deepEqual((await neutron<{ networks: unknown[] }>(`/v2.0/networks?name=docker-pool-${v6}`)).networks, []);
    const a = (await d('run', '-d', '--network', name, IMAGE, 'sleep', '600')).trim();
    const b = slaac
      ? (await d('run', '-d', '--network', name, IMAGE, 'sleep', '600')).trim()
      : (await d('run', '-d', '--network', name, '--ip6', 'fd00:0:0:1::77', IMAGE, 'sleep', '600')).trim();
    const ports = (await neutron<{ ports: Port[] }>(`/v2.0/ports?network_id=${net.id}&device_owner=compute:container`)).ports;
    assert.equal(ports.length, 2, 'one port per endpoint');
    const [ia, ib] = [await addr6(a), await addr6(b)];
    for (const [c, ip] of [
      [a, ia],
      [b, ib],
    ] as const) {
      const mac = /link\/ether ([0-9a-f:]+)/.exec(await d('exec', c, 'ip', '-o', 'link', 'show', 'dev', 'eth0'))?.[1] ?? '';
      const port = ports.find((p) => p.mac_address === mac);
      assert.ok(port !== undefined, `a port with ${c.slice(0, 12)}'s MAC ${mac}`);
      assert.equal(port.fixed_ips.length, 2, 'its IPv4 and IPv6 addresses');
      assert.ok(port.fixed_ips.some((f) => f.ip_address === ip));
      if (slaac) assert.equal(ip, eui64(v6.replace('::/64', ''), mac), 'the SLAAC address is the EUI-64 of the MAC');
    }
    if (!slaac) assert.equal(ib, 'fd00:0:0:1::77', '--ip6 honoured');
    // The IPv6 gateway: --gateway's, else the subnet's (Neutron's default for IPv6: the subnet-router anycast address).
    const gw6 = slaac ? 'fd00:0:0:2::' : 'fd00:0:0:1::1';
    const route6 = await d('exec', a, 'ip', '-6', 'route', 'show', 'default');
    assert.ok(route6.startsWith(`default via ${gw6} `), `the IPv6 default route: ${route6}`);
    await d('exec', a, 'ping', '-c', '1', '-W', '3', ib);
    await d('exec', b, 'ping', '-c', '1', '-W', '3', ia);
    await d('rm', '-f', a, b);
    assert.deepEqual((await neutron<{ ports: unknown[] }>(`/v2.0/ports?network_id=${net.id}&device_owner=compute:container`)).ports, []);
    await d('network', 'rm', name);
    assert.deepEqual((await neutron<{ networks: unknown[] }>(`/v2.0/networks?id=${net.id}`)).networks, []);
  }
});

test('50 docker containers on an ovnts network, each pings a sample of the others; all removed', { timeout: 900_000 }, async (t) => {
  const d = (...args: string[]): Promise<string> => runOk('/usr/bin/docker', args, { env: dockerd.env, timeoutMs: 120_000 });
  const name = `${w.id}-d50`;
  const netId = (await d('network', 'create', '-d', driver, '--ipam-driver', driver, '--subnet', '198.51.100.0/24', name)).trim();
  const nid = (await neutron<{ networks: Array<{ id: string }> }>(`/v2.0/networks?name=docker-${netId}`)).networks[0]!.id;
  const N = 50;
  const ids: string[] = [];
  for (let k = 0; k < N; k += 4) {
    ids.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(4, N - k) }, async () => (await d('run', '-d', '--network', name, IMAGE, 'sleep', '900')).trim()),
      )),
    );
  }
  const ips = await Promise.all(
    ids.map(
      async (c) => /inet (\d+\.\d+\.\d+\.\d+)\//.exec(await d('exec', c, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0'))?.[1] ?? '',
    ),
  );
  assert.equal(new Set(ips).size, N);
  assert.equal((await neutron<{ ports: unknown[] }>(`/v2.0/ports?network_id=${nid}&device_owner=compute:container`)).ports.length, N);
  for (let k = 0; k < N; k += 5) {
    await Promise.all(
      ids.slice(k, k + 5).map(async (c, j) => {
        // A reply within 30 s: on a loaded runner a just-started peer's port may still be being installed
        // (15 s ran out once in a full CI run, for one of 150 sampled pings).
        for (const delta of [1, 7, 23]) {
          const dest = ips[(k + j + delta) % N]!;
          const ping = async (): Promise<boolean> =>
            (await run('/usr/bin/docker', ['exec', c, 'ping', '-c', '1', '-W', '2', dest], { env: dockerd.env, timeoutMs: 30_000 }))
              .code === 0;
          await waitFor(ping, { what: `${c.slice(0, 12)} to ping ${dest}`, timeoutMs: 30_000, intervalMs: 100 });
        }
      }),
    );
  }
  // Removed five at a time: a 50-way `rm -f` races dockerd's own endpoint count (see below).
  for (let k = 0; k < N; k += 5) await d('rm', '-f', ...ids.slice(k, k + 5));
  assert.deepEqual((await neutron<{ ports: unknown[] }>(`/v2.0/ports?network_id=${nid}&device_owner=compute:container`)).ports, []);
  assert.deepEqual(
    (await w.ports()).filter((p) => p.startsWith('ovd')),
    [],
  );
  // Every endpoint is gone on our side (no Neutron port, no OVS port). dockerd releases its own
  // endpoint records a little after `rm -f` returns, so `network rm` is retried for a while. Its
  // endpoint count can also leak for good under concurrent removals (moby/moby#42119: the count is
  // decremented after the driver's DeleteEndpoint and ReleaseAddress, whatever they answer, with a
  // read-modify-write that can lose an update); dockerd recounts its endpoints when it starts, so a
  // restart is what a user does and what the test does — after which `network rm` must succeed.
  let refusal = '';
  const removed = async (): Promise<boolean> => {
    const r = await run('/usr/bin/docker', ['network', 'rm', name], { env: dockerd.env, timeoutMs: 30_000 });
    refusal = r.stderr.trim();
    return r.code === 0;
  };
  const taken = await waitFor(removed, { what: "dockerd to take 'network rm'", timeoutMs: 30_000, intervalMs: 500 }).then(
    () => true,
    () => false,
  );
  if (!taken) {
    const listed = JSON.stringify(
      (JSON.parse(await d('network', 'inspect', name)) as Array<{ Containers?: unknown }>)[0]?.Containers ?? {},
    );
    const counted = dockerd.daemon
      .output()
      .split('\n')
      .filter((l) => /endpoint count|endpoint_cnt/.test(l));
    t.diagnostic(
      `dockerd refused 'network rm' for 30 s (${refusal}); it lists ${listed}; its log: ${counted.join(' | ') || '(nothing on its count)'}`,
    );
    await dockerd.stop();
    dockerd = await startDockerd(join(w.dir, 'docker'));
    await d('network', 'rm', name);
  }
  assert.deepEqual((await neutron<{ networks: unknown[] }>(`/v2.0/networks?id=${nid}`)).networks, []);
});

test('docker-plugin daemon: one-line start-up error, SIGTERM removes the socket and pid file', { timeout: 60_000 }, async () => {
  const bad = await run(OVNTS, ['docker-plugin', '--ipam=not a url']);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr.trim(), 'ovnts-docker-plugin: --ipam=not a url: not a URL');
  const pid = Number(readFileSync(pidfile, 'utf8'));
  process.kill(pid, 'SIGTERM');
  await waitFor(() => !existsSync(pidfile) && !existsSync(socket), { what: 'pid file and socket removed', timeoutMs: 10_000 });
});
