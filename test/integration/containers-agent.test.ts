/**
 * ovn-container through the resident agent (`ovnts cni-agent` in the host's
 * namespace; bin/ovn-container is then its thin client): the same stdout,
 * stderr and exit status as the tool run in its own process for refusals
 * and bad input; seed 004's commands (net-create, endpoint-create,
 * container-create, endpoint-delete, net-delete) served by the agent — it
 * logs each — with containers that reach each other, concurrent creates
 * that share nothing, and nothing left behind; a client in another network
 * namespace than the agent runs the command itself.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runId } from '../helpers/netns.js';
import { cleanupAll, run, spawnDaemon, tmpDir, waitFor, type Daemon, type RunResult } from '../helpers/proc.js';
import { OVNTS } from '../helpers/ovsdb-servers.js';
import {
  createUnderlay,
  okLines,
  OVN_CONTAINER,
  prepareHost,
  startCentral,
  startContainerHost,
  startDockerd,
  type Central,
  type ContainerHost,
  type Dockerd,
} from '../helpers/containers.js';
import { socketAccepts } from '../../src/lib/socket-probe.js';

const CENTRAL_IP = '192.0.2.10';
const CONCURRENT = 5;

let dir: string;
let dockerd: Dockerd;
let central: Central;
let host: ContainerHost;
let agent: Daemon;
let socket: string;
const lines: string[] = [];
const log = (l: string): void => void lines.push(l);

before(async () => {
  dir = tmpDir('ovnts-ctr-agent').path;
  dockerd = await startDockerd(join(dir, 'docker'));
  const id = runId();
  await createUnderlay(`${id}-c`, CENTRAL_IP);
  central = await startCentral('ovnts', join(dir, 'central'), `${id}-c`, CENTRAL_IP, log);
  host = await startContainerHost(`${id}-a`, '192.0.2.1', `${id}-c`, dockerd.env, log);
  await prepareHost(host, CENTRAL_IP, 'geneve');
  await host.startController(join(dir, 'ctl'), log);
  socket = join(dir, 'agent.sock');
  agent = await spawnDaemon('nsenter', [`--net=/run/netns/${host.ns}`, OVNTS, 'cni-agent', `--socket=${socket}`], {
    name: 'cni-agent',
    readyWhen: () => socketAccepts(socket),
  });
});

after(async () => {
  await agent?.stop(10_000);
  await host?.stop();
  await central?.stop();
  await dockerd?.stop();
  await cleanupAll();
});

/** ovn-container in the host's namespace, through the agent or (no socket there) in its own process. */
const viaAgent = (...args: string[]): Promise<RunResult> => host.sh(OVN_CONTAINER, args, { OVNTS_CNI_SOCKET: socket });
const direct = (...args: string[]): Promise<RunResult> => host.sh(OVN_CONTAINER, args, { OVNTS_CNI_SOCKET: join(dir, 'none.sock') });
const served = (args: string): boolean => agent.output().includes(`ovn-container ${args}: exit `);

test('refusals and bad input: the same output and exit status through the agent as in a process of its own', async () => {
  // [arguments, refused]: refused ones must exit non-zero.
  const cases: Array<[string[], boolean]> = [
    [['net-list'], true], // before init: "OVN mode not set."
    [[], true],
    [['--help'], false],
    [['--frob'], true],
    [['bogus'], true],
    [['init', '--bridge', 'br-int'], true],
    [['init', '--bridge', 'br-nope', '--overlay-mode'], true],
    [['init', '--bridge', 'br-int', '--overlay-mode'], false], // the rest in overlay mode
    [['net-create', 'n1'], true],
    [['net-create', 'bad', '10.9.0.0/33'], true],
    [['endpoint-create', 'no-such-net'], true],
    [['container-create'], true],
    [['container-create', '--network=no-such-endpoint'], true],
    [['endpoint-delete', 'no-such-endpoint'], true],
    [['net-list'], false],
  ];
  for (const [args, refused] of cases) {
    const a = await viaAgent(...args);
    const d = await direct(...args);
    const what = args.join(' ');
    assert.deepEqual({ code: a.code, stdout: a.stdout, stderr: a.stderr }, { code: d.code, stdout: d.stdout, stderr: d.stderr }, what);
    assert.ok(served(what), `the agent ran: ${what}\n${agent.output()}`);
    assert.equal(a.code !== 0, refused, `${what}: exit ${a.code} ${a.stderr}`);
  }
});

test(
  'seed 004 through the agent: containers reach each other, concurrent creates share nothing, nothing is left',
  { timeout: 300_000 },
  async () => {
    okLines(await viaAgent('init', '--bridge', 'br-int', '--overlay-mode'), 'init');
    const net = okLines(await viaAgent('net-create', 'web', '10.66.0.0/24'), 'net-create');
    assert.deepEqual(net.slice(0, 2), ['creating neutron network', 'creating neutron subnetwork']);
    const names = Array.from({ length: CONCURRENT }, (_, i) => `e${i}`);
    const made = await Promise.all(
      names.map(async (name) => {
        const ep = okLines(await viaAgent('endpoint-create', 'web', name), `endpoint-create ${name}`);
        assert.equal(ep[0], 'creating neutron port.');
        const out = okLines(await viaAgent('container-create', `--network=${name}`), `container-create ${name}`);
        assert.equal(out.length, 1, 'container-create prints only the id');
        assert.match(out[0]!, /^[0-9a-f]{64}$/);
        return { name, ep: ep[1]!, nc: out[0]! };
      }),
    );
    assert.ok(served('container-create --network=e0'), agent.output());
    assert.equal(new Set(made.map((m) => m.nc)).size, CONCURRENT);
    const ids = new Map(
      (await host.ovs.vsctl('br-get-external-id', 'br-int'))
        .trim()
        .split('\n')
        .map((l) => l.split('=') as [string, string]),
    );
    const addrs = made.map((m) => ids.get(`${m.ep}_ip`)!.split('/')[0]!);
    assert.equal(new Set(addrs).size, CONCURRENT, addrs.join(','));
    // The first container reaches the last one (the controller installs both ports).
    await waitFor(
      async () =>
        (await run('docker', ['exec', made[0]!.nc, 'ping', '-c', '1', '-W', '1', addrs[CONCURRENT - 1]!], { env: dockerd.env })).code === 0,
      { what: 'ping between two containers made through the agent', timeoutMs: 60_000 },
    );
    await Promise.all(
      made.map(async (m) =>
        assert.deepEqual(okLines(await viaAgent('endpoint-delete', m.name), 'endpoint-delete'), ['deleted neutron port']),
      ),
    );
    okLines(await viaAgent('net-delete', 'web'), 'net-delete');
    // What the controller keeps on br-int belongs to no endpoint.
    const left = (await host.ovs.vsctl('br-get-external-id', 'br-int'))
      .split('\n')
      .filter((l) => l !== '' && !/^(bridge-id|ct-zone-[^=]*|ovn-nb-cfg|ovn-nb-cfg-ts)=/.test(l));
    assert.deepEqual(left, [], 'br-int external_ids');
    assert.equal((await dockerd.docker('ps', '-aq')).trim(), '', 'network containers');
    const ports = (await host.ovs.vsctl('list-ports', 'br-int')).split('\n').filter((p) => p.endsWith('_l'));
    assert.deepEqual(ports, [], 'OVS ports');
  },
);

test('a client in another network namespace than the agent runs the command itself', async () => {
  const before = agent.output();
  // From the test's own namespace, against the host's OVS: the agent answers 409 and the tool runs here.
  const r = await run(OVN_CONTAINER, ['init', '--bridge', 'br-int', '--overlay-mode'], {
    env: { ...host.env, OVNTS_CNI_SOCKET: socket },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(agent.output(), before, 'the agent ran nothing');
});
