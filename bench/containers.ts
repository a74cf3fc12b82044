/**
 * bench:containers — seed 004's container-create → first successful ping,
 * p50/p99 over BENCH_CONTAINERS (default 50) containers in overlay mode,
 * with the same ovn-container on two central/chassis stacks in one run:
 * ovnts (`ovnts up --listen` with its IPAM and northd, `ovnts controller`
 * on the hosts) and the real peer (neutron-server with ML2/OVN, ovn-northd,
 * ovn-controller on the hosts). The runtime's own start time (`docker run
 * -d --net=none` of the same image, alone) is measured apart and reported
 * beside it; "beyond runtime" is the difference of the medians.
 *
 * Each container's endpoint is made first (not timed); a pinger in a
 * network container on the other host pings the new address every 10 ms
 * from before container-create starts, and the first reply ends the
 * measurement. Not a test (timings); run: `npm run bench:containers`.
 */
import { join } from 'node:path';
import { firstReply, pct } from './first-reply.js';
import { runId } from '../test/helpers/netns.js';
import { cleanupAll, run, tmpDir } from '../test/helpers/proc.js';
import { startRealController } from '../test/helpers/chassis.js';
import {
  createUnderlay,
  okLines,
  prepareHost,
  startCentral,
  startContainerHost,
  startDockerd,
  type CentralKind,
  type ContainerHost,
  type Dockerd,
} from '../test/helpers/containers.js';

const N = Number(process.env['BENCH_CONTAINERS'] ?? 50);
const CENTRAL_IP = '192.0.2.10';
const IMAGE = 'ovnts-network:local';

interface Result {
  readonly stack: CentralKind;
  readonly createToPing: number[];
  readonly createOnly: number[];
  readonly runtimeStart: number[];
}

async function benchStack(stack: CentralKind, dir: string, dockerd: Dockerd, log: (l: string) => void): Promise<Result> {
  const id = runId();
  const centralNs = `${id}-c`;
  await createUnderlay(centralNs, CENTRAL_IP);
  const central = await startCentral(stack, join(dir, `central-${stack}`), centralNs, CENTRAL_IP, log);
  const hosts: ContainerHost[] = [];
  const stops: Array<() => Promise<void>> = [];
  try {
    for (const [n, ip] of [
      ['a', '192.0.2.1'],
      ['b', '192.0.2.2'],
    ] as const) {
      const h = await startContainerHost(`${id}-${n}`, ip, centralNs, dockerd.env, log);
      hosts.push(h);
      await prepareHost(h, CENTRAL_IP, 'geneve');
      if (stack === 'ovnts') await h.startController(join(dir, `${stack}-${n}-ctl`), log);
      else {
        const d = await startRealController(h.ovs, dir, log);
        stops.push(() => d.stop());
      }
      okLines(await h.container('init', '--bridge', 'br-int', '--overlay-mode'), 'init');
    }
    const [a, b] = hosts as [ContainerHost, ContainerHost];
    okLines(await a.container('net-create', 'bench', '10.77.0.0/16'), 'net-create');
    okLines(await b.container('endpoint-create', 'bench', 'target'), 'endpoint-create target');
    const target = okLines(await b.container('container-create', '--network=target'), 'container-create target')[0]!;
    const targetPid = Number((await dockerd.docker('inspect', '-f', '{{.State.Pid}}', target)).trim());
    const createToPing: number[] = [];
    const createOnly: number[] = [];
    const runtimeStart: number[] = [];
    for (let i = 0; i < N; i++) {
      const ep = okLines(await a.container('endpoint-create', 'bench', `c${i}`), 'endpoint-create').pop()!;
      const ip = (await a.ovs.vsctl('br-get-external-id', 'br-int', `${ep}_ip`)).trim().split('/')[0]!;
      const pinger = firstReply(['-t', String(targetPid), '-n'], ip);
      const t0 = performance.now();
      okLines(await a.container('container-create', `--network=c${i}`), 'container-create');
      createOnly.push(performance.now() - t0);
      try {
        createToPing.push((await pinger.reply) - t0);
      } finally {
        pinger.stop();
      }
      // The runtime alone, same image and flags, for the share that is not ours.
      const r0 = performance.now();
      const cid = (await dockerd.docker('run', '-d', '--pull=never', '--net=none', IMAGE, 'sleep', '600')).trim();
      runtimeStart.push(performance.now() - r0);
      await dockerd.docker('rm', '-f', cid);
    }
    // endpoint-delete is safe to repeat: once more when the IPAM failed (the real one on sqlite sometimes answers 500).
    const remove = async (h: ContainerHost, ep: string): Promise<void> => {
      if ((await h.container('endpoint-delete', ep)).code !== 0) okLines(await h.container('endpoint-delete', ep), `endpoint-delete ${ep}`);
    };
    for (let i = 0; i < N; i++) await remove(a, `c${i}`);
    await remove(b, 'target');
    okLines(await a.container('net-delete', 'bench'), 'net-delete');
    return { stack, createToPing, createOnly, runtimeStart };
  } finally {
    for (const s of stops) await s();
    for (const h of hosts) await h.stop();
    await central.stop();
  }
}

function row(r: Result): string {
  const rt = pct(r.runtimeStart, 50);
  return [
    r.stack.padEnd(8),
    `create_to_ping_p50=${pct(r.createToPing, 50).toFixed(0)}ms`,
    `create_to_ping_p99=${pct(r.createToPing, 99).toFixed(0)}ms`,
    `create_p50=${pct(r.createOnly, 50).toFixed(0)}ms`,
    `runtime_start_p50=${rt.toFixed(0)}ms`,
    `beyond_runtime_p50=${(pct(r.createToPing, 50) - rt).toFixed(0)}ms`,
    `beyond_runtime_p99=${(pct(r.createToPing, 99) - rt).toFixed(0)}ms`,
  ].join('  ');
}

async function main(): Promise<void> {
  const tmp = tmpDir('ovnts-bench-containers');
  const lines: string[] = [];
  const dockerd = await startDockerd(join(tmp.path, 'docker'));
  const results: Result[] = [];
  try {
    // Builds the image once, outside the measurements.
    await run('docker', ['image', 'inspect', IMAGE], { env: dockerd.env }).then(async (r) => {
      if (r.code !== 0)
        await run(join(process.cwd(), 'scripts', 'build-image.sh'), ['docker'], { env: dockerd.env, check: true, timeoutMs: 120_000 });
    });
    for (const stack of ['ovnts', 'neutron'] as const) {
      process.stderr.write(`bench:containers: ${stack} stack, ${N} containers...\n`);
      const r = await benchStack(stack, tmp.path, dockerd, (l) => void lines.push(l));
      results.push(r);
      process.stderr.write(`${row(r)}\n`);
    }
  } finally {
    await dockerd.stop();
    await cleanupAll();
  }
  process.stdout.write(`container-create -> first ping, overlay, ${N} containers (real = neutron-server + ovn-northd + ovn-controller)\n`);
  for (const r of results) process.stdout.write(`${row(r)}\n`);
  const [o, r] = results as [Result, Result];
  const summary = [
    { metric: 'create->ping p50', unit: 'ms', ovnts: pct(o.createToPing, 50), real: pct(r.createToPing, 50) },
    { metric: 'create->ping p99', unit: 'ms', ovnts: pct(o.createToPing, 99), real: pct(r.createToPing, 99) },
  ];
  for (const s of summary) process.stdout.write(`${s.metric}: ovnts/real = ${(s.ovnts / s.real).toFixed(2)}\n`);
  process.stdout.write(`${JSON.stringify({ summary })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:containers: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
