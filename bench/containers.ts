/**
 * bench:containers — seed 004's container-create → first successful ping,
 * p50/p99 over BENCH_CONTAINERS (default 50) containers, in overlay mode
 * (containers on a host's br-int, pinged from a network container on a
 * second host) and underlay mode (containers on VLAN access ports of a VM's
 * breth0, pinged from a VM port on the other hypervisor), with the same
 * ovn-container on two central/chassis stacks in one run: ovnts (`ovnts up
 * --listen` with its IPAM and northd, `ovnts controller` on the hosts) and
 * the real peer (neutron-server with ML2/OVN, ovn-northd, ovn-controller on
 * the hosts). BENCH_MODES (overlay,underlay) and BENCH_STACKS
 * (ovnts,neutron) choose; a stack that fails is reported as failed and the
 * run goes on.
 *
 * The runtime's own start — the network container's create + start through
 * the Docker Engine API, as ovn-container makes it, alone — is measured
 * apart after every container and reported beside it; "beyond runtime" is
 * the difference of the percentiles. With OVNTS_TIMING=1 the phases of
 * container-create (ovn-container's own marks) are summed up too, and
 * "beyond own runtime" is paired: each container's create → ping less the
 * runtime's start inside its own container-create (steadier under load).
 *
 * Each container's endpoint is made first (not timed); a pinger pings the
 * new address every 10 ms from before container-create starts, and the
 * first reply ends the measurement. When `ovnts cni-agent` runs on the
 * hosts (BENCH_AGENT=1, the default) ovn-container is its thin client.
 * Not a test (timings); run: `npm run bench:containers`.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { firstReply, pct } from './first-reply.js';
import { createNetns, runId } from '../test/helpers/netns.js';
import { startOvs, type OvsInstance } from '../test/helpers/ovs.js';
import { cleanupAll, run, spawnDaemon, tmpDir, waitFor, type Daemon, type RunResult } from '../test/helpers/proc.js';
import { startRealController } from '../test/helpers/chassis.js';
import { OVNTS } from '../test/helpers/ovsdb-servers.js';
import {
  createUnderlay,
  okLines,
  OVN_CONTAINER,
  OVN_INTEGRATE,
  prepareHost,
  startCentral,
  startContainerHost,
  startDockerd,
  internalVmPort,
  wireVm,
  type Central,
  type CentralKind,
  type ContainerHost,
  type Dockerd,
} from '../test/helpers/containers.js';
import { dockerApi } from '../src/host/docker-api.js';
import { socketAccepts } from '../src/lib/socket-probe.js';

const N = Number(process.env['BENCH_CONTAINERS'] ?? 50);
const MODES = (process.env['BENCH_MODES'] ?? 'overlay,underlay').split(',') as Mode[];
const STACKS = (process.env['BENCH_STACKS'] ?? 'ovnts,neutron').split(',') as CentralKind[];
const AGENT = process.env['BENCH_AGENT'] !== '0';
const TIMING = process.env['OVNTS_TIMING'] === '1';
/** BENCH_KEEP=FILE: when a container gets no reply, write where things are to FILE and wait until FILE is removed. */
const KEEP = process.env['BENCH_KEEP'];
const CENTRAL_IP = '192.0.2.10';
const IMAGE = 'ovnts-network:local';

type Mode = 'overlay' | 'underlay';

interface Result {
  readonly mode: Mode;
  readonly stack: CentralKind;
  readonly createToPing: number[];
  readonly createOnly: number[];
  readonly runtimeStart: number[];
  /** OVNTS_TIMING marks of container-create: name → ms since it began, per container. */
  readonly phases: Map<string, number[]>;
  /** OVNTS_TIMING only: each container's create → ping less its own runtime start (inside container-create). */
  readonly beyondOwn: number[];
  /** OVNTS_TIMING only: per container, its create → ping and its marks (for the slowest ones' story). */
  readonly each: Array<{ ping: number; marks: ReadonlyMap<string, number> }>;
  readonly error?: string;
}

/** Where ovn-container runs, what it is told, and who pings its containers. */
interface World {
  /** ovn-container ARGS where the containers are (a host, or the VM). */
  container(...args: string[]): Promise<RunResult>;
  /** The endpoint's address (from the bridge's external_ids). */
  address(ep: string): Promise<string>;
  /** nsenter(1) arguments of the pinger's namespace. */
  readonly pingFrom: readonly string[];
  /** Where things are (namespaces, OVS run dirs, the NB), for BENCH_KEEP. */
  readonly where: Record<string, string>;
  stop(): Promise<void>;
}

/** `ovnts cni-agent` in a host's (or the VM's) namespace, with its environment; ovn-container's agent. */
async function startAgent(
  ns: string,
  env: Readonly<Record<string, string>>,
  dir: string,
  log: (l: string) => void,
): Promise<{ daemon: Daemon; socket: string }> {
  const socket = join(dir, `agent-${ns}.sock`);
  const daemon = await spawnDaemon('nsenter', [`--net=/run/netns/${ns}`, OVNTS, 'cni-agent', `--socket=${socket}`], {
    name: `cni-agent(${ns})`,
    env,
    onLine: log,
    readyWhen: () => socketAccepts(socket),
  });
  return { daemon, socket };
}

/** `dir`: this world's own directory (a second world in the same run must not find the first one's databases). */
async function hosts(stack: CentralKind, id: string, dir: string, dockerd: Dockerd, log: (l: string) => void) {
  mkdirSync(dir, { recursive: true });
  const centralNs = `${id}-c`;
  await createUnderlay(centralNs, CENTRAL_IP);
  const central = await startCentral(stack, join(dir, `central-${stack}`), centralNs, CENTRAL_IP, log);
  const hs: ContainerHost[] = [];
  const stops: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    for (const h of hs) await h.stop().catch(() => undefined);
    await central.stop();
  };
  try {
    for (const [n, ip] of [
      ['a', '192.0.2.1'],
      ['b', '192.0.2.2'],
    ] as const) {
      const h = await startContainerHost(`${id}-${n}`, ip, centralNs, dockerd.env, log);
      hs.push(h);
      await prepareHost(h, CENTRAL_IP, 'geneve');
      if (stack === 'ovnts') await h.startController(join(dir, `${stack}-${n}-ctl`), log);
      else {
        const d = await startRealController(h.ovs, dir, log);
        stops.push(() => d.stop());
      }
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { central, centralNs, hosts: hs as [ContainerHost, ContainerHost], stops, stop };
}

/** The tool with an agent: its socket in the environment, the agent stopped with the world. */
async function withAgent(
  ns: string,
  env: Readonly<Record<string, string>>,
  dir: string,
  log: (l: string) => void,
  stops: Array<() => Promise<void>>,
): Promise<Record<string, string>> {
  const timing: Record<string, string> = TIMING ? { OVNTS_TIMING: '1' } : {};
  if (!AGENT) return { ...env, ...timing, OVNTS_CNI_SOCKET: join(dir, 'no-agent.sock') };
  const agent = await startAgent(ns, env, dir, log);
  stops.push(() => agent.daemon.stop(10_000));
  return { ...env, ...timing, OVNTS_CNI_SOCKET: agent.socket };
}

async function overlayWorld(stack: CentralKind, dir: string, dockerd: Dockerd, log: (l: string) => void): Promise<World> {
  const w = await hosts(stack, runId(), dir, dockerd, log);
  try {
    const [a, b] = w.hosts;
    const envA = await withAgent(a.ns, a.env, dir, log, w.stops);
    const tool = (h: ContainerHost, env: Record<string, string>, args: string[]): Promise<RunResult> =>
      run('nsenter', [`--net=/run/netns/${h.ns}`, OVN_CONTAINER, ...args], { env, timeoutMs: 120_000 });
    for (const h of w.hosts) okLines(await h.container('init', '--bridge', 'br-int', '--overlay-mode'), 'init');
    okLines(await a.container('net-create', 'bench', '10.77.0.0/16'), 'net-create');
    okLines(await b.container('endpoint-create', 'bench', 'target'), 'endpoint-create target');
    const target = okLines(await b.container('container-create', '--network=target'), 'container-create target')[0]!;
    const targetPid = (await dockerd.docker('inspect', '-f', '{{.State.Pid}}', target)).trim();
    return {
      container: (...args) => tool(a, envA, args),
      address: async (ep) => (await a.ovs.vsctl('br-get-external-id', 'br-int', `${ep}_ip`)).trim().split('/')[0]!,
      pingFrom: ['-t', targetPid, '-n'],
      where: { hostA: a.ns, hostB: b.ns, ovsA: a.ovs.dir, ovsB: b.ovs.dir, central: w.centralNs, pinger: `pid ${targetPid}` },
      stop: async () => {
        await b.container('endpoint-delete', 'target');
        await a.container('net-delete', 'bench');
        await w.stop();
      },
    };
  } catch (e) {
    await w.stop();
    throw e;
  }
}

/** As containers-underlay.test.ts: vm5 (a namespace with its own OVS) on hypervisor a, vm6 on b. */
async function underlayWorld(stack: CentralKind, dir: string, dockerd: Dockerd, log: (l: string) => void): Promise<World> {
  const id = runId();
  const w = await hosts(stack, id, dir, dockerd, log);
  const central: Central = w.central;
  try {
    const [h1, h2] = w.hosts;
    const net = await central.neutronCreate('network', { name: 'dmz', admin_state_up: true });
    const netId = String(net['id']);
    await central.neutronCreate('subnet', { network_id: netId, ip_version: 4, cidr: '172.16.255.128/26', name: 'dmz' });
    const port = async (name: string): Promise<{ id: string; mac: string; ip: string }> => {
      const p = await central.neutronCreate('port', { network_id: netId, name });
      return { id: String(p['id']), mac: String(p['mac_address']), ip: (p['fixed_ips'] as Array<{ ip_address: string }>)[0]!.ip_address };
    };
    const vm5 = await port('vm5');
    const vm6 = await port('vm6');
    const vm6Ns = await createNetns(`${id}-v6`);
    await internalVmPort(h2, 'vm6', vm6Ns, vm6, 26);
    const vmNs = await createNetns(`${id}-v5`);
    await wireVm(h1, vmNs, `${id}v5`, vm5, 26, { centralNs: w.centralNs, ip: '192.0.2.50', peer: `${id}m` });
    const vmOvs: OvsInstance = await startOvs({ netns: vmNs, log });
    w.stops.unshift(() => vmOvs.stop());
    const base = { ...vmOvs.env, ...dockerd.env, OS_VIF_ID: vm5.id, OS_AUTH_STRATEGY: 'noauth', OS_TENANT_ID: 'admin' };
    const inVm = (cmd: string, args: readonly string[], env: Record<string, string> = base): Promise<RunResult> =>
      run('nsenter', [`--net=/run/netns/${vmNs}`, cmd, ...args], { env, timeoutMs: 120_000 });
    await waitFor(async () => (await central.nbctl('get', 'Logical_Switch_Port', vm5.id, 'up')).trim() === 'true', {
      what: 'vm5 up',
      timeoutMs: 90_000,
    });
    okLines(await inVm(OVN_INTEGRATE, ['nics-to-bridge', 'eth0']), 'nics-to-bridge');
    await waitFor(async () => (await run('ip', ['netns', 'exec', vmNs, 'ping', '-c', '1', '-W', '1', vm6.ip])).code === 0, {
      what: 'the VM reaches vm6 through breth0',
      timeoutMs: 60_000,
    });
    okLines(await inVm(OVN_INTEGRATE, ['set-ipam', CENTRAL_IP]), 'set-ipam');
    okLines(await inVm(OVN_CONTAINER, ['init', '--bridge', 'breth0', '--underlay-mode']), 'init');
    const env = await withAgent(vmNs, base, dir, log, w.stops);
    return {
      container: (...args) => inVm(OVN_CONTAINER, args, env),
      address: async (ep) => (await vmOvs.vsctl('br-get-external-id', 'breth0', `${ep}_ip`)).trim().split('/')[0]!,
      pingFrom: [`--net=/run/netns/${vm6Ns}`],
      where: {
        hv1: h1.ns,
        hv2: h2.ns,
        ovs1: h1.ovs.dir,
        ovs2: h2.ovs.dir,
        vm: vmNs,
        vmOvs: vmOvs.dir,
        pinger: vm6Ns,
        central: w.centralNs,
      },
      stop: () => w.stop(),
    };
  } catch (e) {
    await w.stop();
    throw e;
  }
}

/** Keeps the world up for a look: `what` written to `file`, resumed once the file is gone. */
async function keep(file: string, what: Record<string, string>): Promise<void> {
  writeFileSync(file, `${JSON.stringify(what, null, 1)}\n`);
  process.stderr.write(`bench:containers: no reply; the world is kept until ${file} is removed\n`);
  while (existsSync(file)) await new Promise((r) => setTimeout(r, 1000));
}

async function bench(mode: Mode, stack: CentralKind, dir: string, dockerd: Dockerd, log: (l: string) => void): Promise<Result> {
  const r: Result = { mode, stack, createToPing: [], createOnly: [], runtimeStart: [], phases: new Map(), beyondOwn: [], each: [] };
  const world = await (mode === 'overlay' ? overlayWorld : underlayWorld)(stack, join(dir, `${mode}-${stack}`), dockerd, log);
  const docker = dockerApi(dockerd.env['DOCKER_HOST']!.slice('unix://'.length));
  const made: string[] = [];
  try {
    for (let i = 0; i < N; i++) {
      const ep = okLines(await world.container('endpoint-create', mode === 'overlay' ? 'bench' : 'dmz', `c${i}`), 'endpoint-create').pop()!;
      made.push(`c${i}`);
      const pinger = firstReply(world.pingFrom, await world.address(ep));
      const t0 = performance.now();
      const created = await world.container('container-create', `--network=c${i}`);
      okLines(created, 'container-create');
      r.createOnly.push(performance.now() - t0);
      try {
        r.createToPing.push((await pinger.reply) - t0);
      } catch (e) {
        if (KEEP !== undefined)
          await keep(KEEP, { ...world.where, docker: dockerd.env['DOCKER_HOST'] ?? '', endpoint: ep, container: created.stdout.trim() });
        throw e;
      } finally {
        pinger.stop();
      }
      const marks = new Map<string, number>();
      for (const m of created.stderr.matchAll(/^timing: (.*) (\d+) ms$/gm)) {
        const what = m[1]!.replace(/ [0-9a-f-]{36}$/, '');
        r.phases.set(what, [...(r.phases.get(what) ?? []), Number(m[2])]);
        marks.set(what, Number(m[2]));
      }
      // Paired, not a difference of percentiles: the runtime's share is this container's own start.
      const started = [...marks].find(([what]) => what.endsWith('started the network container'))?.[1];
      const resolved = marks.get('resolved');
      if (started !== undefined && resolved !== undefined) r.beyondOwn.push(r.createToPing.at(-1)! - (started - resolved));
      if (marks.size > 0) r.each.push({ ping: r.createToPing.at(-1)!, marks });
      // The runtime alone, as ovn-container drives it (Engine API create + start), for the share that is not ours.
      const r0 = performance.now();
      const c = (await docker.call('POST', '/containers/create', {
        Image: IMAGE,
        Cmd: ['sleep', '600'],
        HostConfig: { NetworkMode: 'none' },
      })) as {
        Id: string;
      };
      await docker.call('POST', `/containers/${c.Id}/start`);
      r.runtimeStart.push(performance.now() - r0);
      await docker.call('DELETE', `/containers/${c.Id}?force=true`);
    }
    return r;
  } catch (e) {
    return { ...r, error: (e as Error).message.split('\n').slice(0, 6).join(' | ') };
  } finally {
    // endpoint-delete is safe to repeat: once more when the IPAM failed (the real one on sqlite sometimes answers 500).
    for (const ep of made) if ((await world.container('endpoint-delete', ep)).code !== 0) await world.container('endpoint-delete', ep);
    await world.stop();
  }
}

function row(r: Result): string {
  const ms = (x: number): string => `${Number.isNaN(x) ? '-' : x.toFixed(0)}ms`;
  return [
    `${r.mode.padEnd(8)} ${r.stack.padEnd(8)} n=${r.createToPing.length}`,
    `create_to_ping_p50=${ms(pct(r.createToPing, 50))}`,
    `create_to_ping_p99=${ms(pct(r.createToPing, 99))}`,
    `create_p50=${ms(pct(r.createOnly, 50))}`,
    `runtime_start_p50=${ms(pct(r.runtimeStart, 50))}`,
    `runtime_start_p99=${ms(pct(r.runtimeStart, 99))}`,
    `beyond_runtime_p50=${ms(pct(r.createToPing, 50) - pct(r.runtimeStart, 50))}`,
    `beyond_runtime_p99=${ms(pct(r.createToPing, 99) - pct(r.runtimeStart, 99))}`,
    ...(r.beyondOwn.length === 0
      ? []
      : [`beyond_own_runtime_p50=${ms(pct(r.beyondOwn, 50))}`, `beyond_own_runtime_p99=${ms(pct(r.beyondOwn, 99))}`]),
    ...(r.error === undefined ? [] : [`FAILED: ${r.error}`]),
  ].join('  ');
}

async function main(): Promise<void> {
  const tmp = tmpDir('ovnts-bench-containers');
  const lines: string[] = [];
  const dockerd = await startDockerd(join(tmp.path, 'docker'));
  const results: Result[] = [];
  const load = (): string =>
    `load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`;
  try {
    // Builds the image once, outside the measurements.
    await run('docker', ['image', 'inspect', IMAGE], { env: dockerd.env }).then(async (r) => {
      if (r.code !== 0)
        await run(join(process.cwd(), 'scripts', 'build-image.sh'), ['docker'], { env: dockerd.env, check: true, timeoutMs: 120_000 });
    });
    for (const mode of MODES)
      for (const stack of STACKS) {
        process.stderr.write(`bench:containers: ${mode}, ${stack} stack, ${N} containers (${load()})...\n`);
        const r = await bench(mode, stack, tmp.path, dockerd, (l) => void lines.push(l)).catch((e: unknown): Result => ({
          mode,
          stack,
          createToPing: [],
          createOnly: [],
          runtimeStart: [],
          phases: new Map(),
          beyondOwn: [],
          each: [],
          error: `setting up: ${(e as Error).message.split('\n').slice(0, 6).join(' | ')}`,
        }));
        results.push(r);
        process.stderr.write(`${row(r)}  (${load()})\n`);
        for (const [what, xs] of r.phases)
          process.stderr.write(`  ${what}: p50 ${pct(xs, 50).toFixed(0)} ms, p99 ${pct(xs, 99).toFixed(0)} ms\n`);
        // The three slowest: where their time went (marks since the request; the client's start and the reply after them).
        for (const c of [...r.each].sort((x, y) => y.ping - x.ping).slice(0, 3))
          process.stderr.write(`  slow: ping ${c.ping.toFixed(0)} ms; ${[...c.marks].map(([what, t]) => `${what} ${t}`).join(', ')}\n`);
      }
  } finally {
    await dockerd.stop();
    await cleanupAll();
  }
  process.stdout.write(
    `container-create -> first ping, ${N} containers, agent ${AGENT ? 'on' : 'off'} (real = neutron-server + ovn-northd + ovn-controller), ${load()}\n`,
  );
  for (const r of results) process.stdout.write(`${row(r)}\n`);
  const summary = [];
  for (const mode of MODES) {
    const o = results.find((r) => r.mode === mode && r.stack === 'ovnts');
    const real = results.find((r) => r.mode === mode && r.stack === 'neutron');
    if (o === undefined || real === undefined || o.createToPing.length === 0 || real.createToPing.length === 0) continue;
    for (const p of [50, 99]) {
      const s = { metric: `${mode} create->ping p${p}`, unit: 'ms', ovnts: pct(o.createToPing, p), real: pct(real.createToPing, p) };
      summary.push(s);
      process.stdout.write(`${s.metric}: ovnts/real = ${(s.ovnts / s.real).toFixed(2)}\n`);
    }
  }
  process.stdout.write(`${JSON.stringify({ summary })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:containers: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
