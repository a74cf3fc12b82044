/**
 * bench:cni — CNI ADD → first successful ping, p50/p99 over BENCH_CNI
 * (default 100) containers, for ovnts-cni (host mode: IPAM port, veth into
 * br-int, waiting for ovn-installed) and, in the same run on the same
 * machine, the reference `bridge` plugin with host-local IPAM
 * (containernetworking-plugins; a Linux bridge, no overlay, no policy).
 *
 * Each plugin gets a peer container first (not timed). Each measured
 * container (its address given as CNI_ARGS IP=, which both plugins honour)
 * starts pinging the peer every 10 ms as soon as ADD returns; the time from
 * executing ADD to the first reply is the measurement. (Pinging the new
 * container from the peer instead would measure the peer's ARP retry timer,
 * 1 s, for both plugins.) Containers
 * are deleted after their measurement (not timed). The bridge plugin runs
 * inside a namespace of the bench's own, so its bridge never touches the
 * host's. ovnts-cni is measured twice: forwarding to the resident agent
 * (`ovnts cni-agent`, as a host runs it) and alone (no agent: the plugin
 * runs in its own Node process). Not a test (timings); run: `npm run bench:cni`.
 *
 * Whatever fails — the world's set-up (bounded by BENCH_CNI_SETUP_MS,
 * default 120 s), a measurement, or a SIGINT/SIGTERM — everything started is
 * stopped (OVS, `ovnts up`, the agent, namespaces) and the bench exits 1 with
 * one line: a half-built world must never keep it alive.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { firstReply, pct } from './first-reply.js';
import { createNetns, deleteNetns } from '../test/helpers/netns.js';
import { cleanupAll, runOk, spawnDaemon } from '../test/helpers/proc.js';
import { OVNTS, REPO } from '../test/helpers/ovsdb-servers.js';
import { startCniWorld } from '../test/helpers/cni.js';

const N = Number(process.env['BENCH_CNI'] ?? 100);
/** How long the world's set-up may take before the bench gives up and unwinds. */
const SETUP_MS = Number(process.env['BENCH_CNI_SETUP_MS'] ?? 120_000);
/** How long the unwinding itself may take: a stuck stop must not keep the bench alive either. */
const CLEANUP_MS = 30_000;
/** The thin client as a host installs it in its CNI plugin directory (built by npm run build). */
const CLIENT = join(REPO, 'dist', 'bin', 'ovnts-cni');

interface Plugin {
  readonly name: string;
  /** Runs CNI_COMMAND on container `cid` in `ns` with CNI_ARGS `args`. */
  cni(command: 'ADD' | 'DEL', cid: string, ns: string, args: string): Promise<void>;
}

async function measure(p: Plugin, prefix: string, tag: string): Promise<number[]> {
  const peer = await createNetns(`${tag}-peer`);
  await p.cni('ADD', `${tag}-peer`, peer, `IgnoreUnknown=1;IP=${prefix}.2`);
  const times: number[] = [];
  for (let k = 0; k < N; k++) {
    const ns = await createNetns(`${tag}-${k}`);
    const ip = `${prefix}.${10 + k}`;
    const t0 = performance.now();
    await p.cni('ADD', `${tag}-${k}`, ns, `IgnoreUnknown=1;IP=${ip}`);
    const pinger = firstReply([`--net=/run/netns/${ns}`], `${prefix}.2`);
    try {
      times.push((await pinger.reply) - t0);
    } catch (e) {
      throw new Error(`${p.name}, container ${k} (${ip} in ${ns}): ${(e as Error).message}`);
    } finally {
      pinger.stop();
    }
    await p.cni('DEL', `${tag}-${k}`, ns, `IgnoreUnknown=1;IP=${ip}`);
    await deleteNetns(ns);
  }
  await p.cni('DEL', `${tag}-peer`, peer, `IgnoreUnknown=1;IP=${prefix}.2`);
  return times;
}

function execPlugin(
  argv: readonly string[],
  conf: unknown,
  command: string,
  cid: string,
  ns: string,
  args: string,
  path: string,
  extraEnv: Readonly<Record<string, string>> = {},
): Promise<void> {
  return runOk(argv[0]!, argv.slice(1), {
    env: {
      CNI_COMMAND: command,
      CNI_CONTAINERID: cid,
      CNI_NETNS: `/run/netns/${ns}`,
      CNI_IFNAME: 'eth0',
      CNI_ARGS: args,
      CNI_PATH: path,
      ...extraEnv,
    },
    input: JSON.stringify(conf),
    timeoutMs: 60_000,
  }).then(() => undefined);
}

/** `p`, or a rejection naming `what` once `ms` passed. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/** The world's set-up while it runs: one cut off by its deadline goes on, and is waited for before the last cleanup. */
let settingUp: Promise<unknown> = Promise.resolve();

async function main(): Promise<void> {
  const setup = startCniWorld();
  settingUp = setup.catch(() => undefined);
  const w = await within(setup, SETUP_MS, 'the CNI world set-up');
  const id = w.id;
  const netId = await w.network(`${id}-bench`, '198.51.100.0/24');
  const ovntsConf = { cniVersion: '1.0.0', name: `${id}-bench`, type: 'ovnts-cni', ...w.base, network: netId };
  const socket = join(w.dir, 'cni-agent.sock');
  const agent = await spawnDaemon(OVNTS, ['cni-agent', `--socket=${socket}`], {
    name: 'cni-agent',
    readyWhen: async () => existsSync(socket),
  });
  const viaAgent: Plugin = {
    name: 'ovnts-cni (agent)',
    cni: (command, cid, ns, args) => execPlugin([CLIENT], ovntsConf, command, cid, ns, args, w.pluginDir, { OVNTS_CNI_SOCKET: socket }),
  };
  const alone: Plugin = {
    name: 'ovnts-cni (no agent)',
    cni: (command, cid, ns, args) =>
      execPlugin([join(w.pluginDir, 'ovnts-cni')], ovntsConf, command, cid, ns, args, w.pluginDir, {
        OVNTS_CNI_SOCKET: join(w.dir, 'no-agent.sock'),
      }),
  };
  const brNs = await createNetns(`${id}-br`);
  const dataDir = join(w.dir, 'host-local');
  mkdirSync(dataDir);
  const bridgeConf = {
    cniVersion: '1.0.0',
    name: `${id}-bridge`,
    type: 'bridge',
    bridge: 'cnibr0',
    isGateway: true,
    ipam: { type: 'host-local', subnet: '203.0.113.0/24', dataDir },
  };
  const bridge: Plugin = {
    name: 'bridge (reference)',
    cni: (command, cid, ns, args) =>
      execPlugin(['nsenter', `--net=/run/netns/${brNs}`, '/usr/lib/cni/bridge'], bridgeConf, command, cid, ns, args, '/usr/lib/cni'),
  };
  const results: Array<[string, number[]]> = [];
  results.push([bridge.name, await measure(bridge, '203.0.113', `${id}b`)]);
  try {
    results.push([viaAgent.name, await measure(viaAgent, '198.51.100', `${id}o`)]);
  } finally {
    await agent.stop();
  }
  results.push([alone.name, await measure(alone, '198.51.100', `${id}n`)]);
  console.log(`CNI ADD -> first successful ping, ${N} containers each, same machine, same run`);
  for (const [name, t] of results)
    console.log(`${name.padEnd(22)} p50 ${pct(t, 50).toFixed(0).padStart(5)} ms   p99 ${pct(t, 99).toFixed(0).padStart(5)} ms`);
  const b = results[0]![1];
  for (const [name, o] of results.slice(1))
    console.log(
      `ratio ${name} / bridge`.padEnd(40) + ` p50 ${(pct(o, 50) / pct(b, 50)).toFixed(2)}x   p99 ${(pct(o, 99) / pct(b, 99)).toFixed(2)}x`,
    );
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) await runOk(process.execPath, ['-e', '0']);
  console.log(`(node start-up alone on this machine now: ${((performance.now() - t0) / 5).toFixed(0)} ms)`);
}

/** Stops everything the bench started (each piece registered itself with cleanupAll), within CLEANUP_MS. */
async function unwind(): Promise<void> {
  await within(cleanupAll(), CLEANUP_MS, 'cleanup').catch((e: unknown) => console.error(`bench:cni: ${(e as Error).message}`));
}

let leaving = false;
const leave = async (code: number, why?: string): Promise<never> => {
  if (!leaving) {
    leaving = true;
    if (why !== undefined) console.error(`bench:cni: ${why}`);
    await unwind();
    // A set-up cut off by its deadline may be starting one more piece: once what it waits on is gone it fails
    // (or finishes), and what it started by then goes too.
    await within(settingUp, CLEANUP_MS, 'the set-up to give up').catch((e: unknown) => console.error(`bench:cni: ${(e as Error).message}`));
    await unwind();
  }
  process.exit(code);
};
// In place of the test helpers' handlers (test/helpers/proc.ts), which exit at once with 128+n and no word:
// the bench unwinds in order and says why in its one line.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.removeAllListeners(sig);
  process.once(sig, () => void leave(1, `${sig}, stopped`));
}
main().then(
  () => leave(0),
  (e: unknown) => leave(1, e instanceof Error ? e.message.split('\n')[0] : String(e)),
);
