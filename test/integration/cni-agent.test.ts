/**
 * ovnts-cni through the resident agent (`ovnts cni-agent`): the thin client
 * (dist/bin/ovnts-cni) forwards each invocation over the agent's socket.
 * Shown here: the same answers as the plugin run alone for bad input (the
 * spec's codes, byte for byte); ADD/CHECK/DEL through libcni (cnitool) with
 * the container pinging its peer as soon as ADD returns; concurrent ADDs on
 * the agent's one OVSDB connection; nothing left after DEL; with the agent
 * killed (a stale socket) the client runs the plugin itself; and SIGTERM
 * stops the agent at once and removes its socket.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createNetns, deleteNetns } from '../helpers/netns.js';
import { cleanupAll, run, spawnDaemon, waitFor, type Daemon, type RunResult } from '../helpers/proc.js';
import { buildCnitool, cnitoolIn, type Cnitool } from '../helpers/cnitool.js';
import { startCniWorld, type CniWorld } from '../helpers/cni.js';
import { OVNTS, REPO } from '../helpers/ovsdb-servers.js';

const CLIENT = join(REPO, 'dist', 'bin', 'ovnts-cni');

let w: CniWorld;
let cnitool: Cnitool;
let netId: string;
let socket: string;
let agent: Daemon;

const PIDFILE = (): string => join(w.dir, 'cni-agent.pid');

/** The agent, ready once its pid file is written (it serves and handles SIGTERM by then). */
function startAgent(): Promise<Daemon> {
  return spawnDaemon(OVNTS, ['cni-agent', `--socket=${socket}`, `--pidfile=${PIDFILE()}`], {
    name: 'cni-agent',
    readyWhen: async () => existsSync(PIDFILE()),
  });
}

before(async () => {
  const [bin, world] = await Promise.all([buildCnitool(), startCniWorld()]);
  w = world;
  socket = join(w.dir, 'cni-agent.sock');
  cnitool = cnitoolIn(bin, w.confDir, [w.pluginDir], join(w.dir, 'cache'));
  netId = await w.network(`${w.id}-net`, '198.51.100.0/24');
  agent = await startAgent();
});

after(async () => {
  await agent?.stop();
  await w?.stop();
  await cleanupAll();
});

/** The thin client with the agent's socket (or `sock`), as a runtime runs it. */
function viaAgent(env: Readonly<Record<string, string>>, conf: unknown, sock = socket): Promise<RunResult> {
  return run(CLIENT, [], {
    env: { CNI_PATH: w.pluginDir, OVNTS_CNI_SOCKET: sock, ...env },
    input: typeof conf === 'string' ? conf : JSON.stringify(conf),
    timeoutMs: 120_000,
  });
}

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function inNs(ns: string, ...args: string[]): Promise<RunResult> {
  return run('nsenter', [`--net=/run/netns/${ns}`, ...args]);
}

async function leftovers(): Promise<{ neutron: unknown[]; ovs: string[] }> {
  const { ports } = await w.api<{ ports: unknown[] }>('GET', `/v2.0/ports?network_id=${netId}`);
  return { neutron: ports, ovs: (await w.ports()).filter((p) => p.startsWith('ovc')) };
}

test('bad input: the agent answers what the plugin alone answers, byte for byte', { timeout: 120_000 }, async () => {
  assert.ok(existsSync(CLIENT), `${CLIENT} is built by npm run build`);
  const ns = await createNetns(`${w.id}-bad`);
  const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'bad1', CNI_NETNS: `/run/netns/${ns}`, CNI_IFNAME: 'eth0' };
  const conf = { cniVersion: '1.0.0', name: 'bad', type: 'ovnts-cni', ...w.base, network: netId };
  const cases: Array<[string, Record<string, string>, unknown, number]> = [
    ['unknown version', env, { ...conf, cniVersion: '0.9.9' }, 1],
    ['unknown mode', env, { ...conf, mode: 'bridge' }, 2],
    ['no network', env, { ...conf, network: undefined }, 7],
    ['no such network', env, { ...conf, network: 'nosuchnet' }, 7],
    ['not JSON', env, '{"cniVersion": ', 6],
    ['no netns', { ...env, CNI_NETNS: '' }, conf, 4],
    ['bad ifname', { ...env, CNI_IFNAME: 'a/b' }, conf, 4],
    ['unknown command', { ...env, CNI_COMMAND: 'FROB' }, conf, 4],
    ['IPAM unreachable', env, { ...conf, endpoint: 'http://127.0.0.1:9' }, 11],
  ];
  for (const [what, e, c, code] of cases) {
    const [alone, forwarded] = await Promise.all([w.exec(e, c), viaAgent(e, c)]);
    assert.equal(forwarded.code, 1, `${what}: exit status`);
    assert.equal(alone.code, 1, `${what}: exit status alone`);
    assert.equal(forwarded.stdout, alone.stdout, what);
    assert.equal((JSON.parse(forwarded.stdout) as { code: number }).code, code, `${what}: ${forwarded.stdout}`);
  }
  const v = await viaAgent({ CNI_COMMAND: 'VERSION' }, { cniVersion: '0.4.0' });
  assert.deepEqual(JSON.parse(ok(v, 'VERSION')), { cniVersion: '0.4.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  await deleteNetns(ns);
  assert.deepEqual(await leftovers(), { neutron: [], ovs: [] });
});

test('ADD/CHECK/DEL through libcni and the agent; concurrent ADDs; each pings at once; nothing left', { timeout: 300_000 }, async () => {
  const net = `${w.id}-a`;
  w.conflist(net, '1.0.0', { network: netId });
  const viaTool = (verb: 'add' | 'check' | 'del', ns: string): Promise<RunResult> =>
    cnitool(verb, net, `/run/netns/${ns}`, { OVNTS_CNI_SOCKET: socket, CNI_CONTAINERID: `${w.id}-${ns}` });
  // The client in the plugin directory, as a host installs it.
  await run('ln', ['-sf', CLIENT, join(w.pluginDir, 'ovnts-cni')]);
  const peer = await createNetns(`${w.id}-peer`);
  const peerResult = JSON.parse(ok(await viaTool('add', peer), 'add peer')) as { ips: Array<{ address: string }> };
  const peerIp = peerResult.ips[0]!.address.split('/')[0]!;
  ok(await viaTool('check', peer), 'check peer');
  const names = await Promise.all([0, 1, 2, 3, 4, 5].map((k) => createNetns(`${w.id}-c${k}`)));
  const results = await Promise.all(names.map((ns) => viaTool('add', ns)));
  const addresses = new Set<string>();
  for (const [k, r] of results.entries()) {
    const res = JSON.parse(ok(r, `add ${k}`)) as { ips: Array<{ address: string }> };
    addresses.add(res.ips[0]!.address);
    ok(await inNs(names[k]!, 'ping', '-c', '1', '-W', '2', peerIp), `first ping from ${k}`);
  }
  assert.equal(addresses.size, names.length, 'every container its own address');
  for (const ns of [...names, peer]) {
    ok(await viaTool('del', ns), `del ${ns}`);
    ok(await viaTool('del', ns), `del again ${ns}`);
    await deleteNetns(ns);
  }
  assert.deepEqual(await leftovers(), { neutron: [], ovs: [] });
});

test(
  'a killed agent leaves a stale socket: the client runs the plugin itself; SIGTERM stops an agent at once',
  { timeout: 120_000 },
  async () => {
    const conf = { cniVersion: '1.0.0', name: `${w.id}-k`, type: 'ovnts-cni', ...w.base, network: netId };
    agent.process.kill('SIGKILL');
    await agent.exited;
    assert.ok(existsSync(socket), 'the socket is left behind');
    const ns = await createNetns(`${w.id}-k`);
    const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: `${w.id}-k`, CNI_NETNS: `/run/netns/${ns}`, CNI_IFNAME: 'eth0' };
    ok(await viaAgent(env, conf), 'ADD with no agent listening');
    ok(await viaAgent({ ...env, CNI_COMMAND: 'DEL' }, conf), 'DEL with no agent listening');
    await deleteNetns(ns);
    assert.deepEqual(await leftovers(), { neutron: [], ovs: [] });

    // A new agent replaces the stale socket (the killed one's pid file goes first: its appearing means ready).
    rmSync(PIDFILE(), { force: true });
    agent = await startAgent();
    ok(await viaAgent({ CNI_COMMAND: 'VERSION' }, { cniVersion: '1.0.0' }), 'VERSION through the new agent');
    const t0 = performance.now();
    await agent.stop(10_000);
    assert.ok(performance.now() - t0 < 3000, 'the agent stops within 3 s of SIGTERM');
    await waitFor(() => !existsSync(socket), { what: 'the socket removed' });
  },
);
