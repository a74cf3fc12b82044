/**
 * bench:controller-dhcp — DHCP handshakes per second answered by the chassis
 * controller's pinctrl (put_dhcp_opts packet-ins, NXT_RESUME back):
 * `ovnts controller` against the real `ovn-controller` in one run, each on its
 * own setup (real NB/SB ovsdb-servers, real ovn-northd, a private userspace OVS
 * in a namespace). N logical ports on one switch have DHCPv4 options; each
 * port's OVS internal port sits in its own namespace. bench/dhcp-load.py runs
 * complete DISCOVER→OFFER→REQUEST→ACK handshakes from the ports' own MACs, W
 * in flight per port, and counts the ACKs (and NAKs, timeouts).
 *
 * Both setups are built first, then the generator runs against them in turn
 * (ROUNDS rounds, real first in each), so machine noise hits both alike.
 * CPU of the controller and of ovs-vswitchd is their utime+stime over the
 * timed phases (the generator, ovs-vswitchd and the controller share the
 * machine's cores, so controller CPU per handshake bounds the rate).
 *
 * BENCH_PORTS (8), BENCH_WINDOW (4), BENCH_SECONDS per round (5), BENCH_ROUNDS (2).
 * Not a test (timings); run: `npm run build && node dist/bench/controller-dhcp.js`.
 * The last stdout line is a JSON summary for bench/controller.ts.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNetns, deleteNetns, runId } from '../test/helpers/netns.js';
import { startOvs } from '../test/helpers/ovs.js';
import { setChassisConfig, startCentral, startRealController } from '../test/helpers/chassis.js';
import { startOvntsController } from '../test/helpers/ovnts-controller.js';
import { REPO } from '../test/helpers/ovsdb-servers.js';
import { cleanupAll, run, runOk, tmpDir, waitFor } from '../test/helpers/proc.js';

const N = Number(process.env['BENCH_PORTS'] ?? 8);
const WINDOW = Number(process.env['BENCH_WINDOW'] ?? 4);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);
const VERBOSE = process.env['BENCH_VERBOSE'] !== undefined;
const GENERATOR = join(REPO, 'bench', 'dhcp-load.py');

type Kind = 'real' | 'ovnts';

const SUBNET = '10.0.0.0/16';
const SERVER_IP = '10.0.255.254';
const SERVER_MAC = '02:00:00:00:ff:fe';
const mac = (i: number): string =>
  `02:00:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
const ip = (i: number): string => `10.0.${(i >> 8) & 255}.${i & 255}`;

interface Setup {
  readonly kind: Kind;
  /** `NETNS:IFACE:MAC` per port, the generator's arguments. */
  readonly ports: readonly string[];
  /** The controller's process id (`ip netns exec` execs it, so this is the controller itself). */
  readonly controllerPid: number;
  readonly vswitchdPid: number;
  stop(): Promise<void>;
}

interface LoadResult {
  readonly handshakes: number;
  readonly naks: number;
  readonly timeouts: number;
  readonly send_errors: number;
  readonly elapsed_s: number;
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
}

/** utime + stime of a process in seconds (proc(5) /proc/PID/stat fields 14 and 15). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function build(kind: Kind): Promise<Setup> {
  const teardown: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const fn of teardown.splice(0).reverse())
      await fn().catch((e: unknown) => process.stderr.write(`teardown (${kind}): ${String(e)}\n`));
  };
  try {
    const tmp = tmpDir(`ovnts-bench-dhcp-${kind}`);
    teardown.push(async () => tmp.cleanup());
    const dir = tmp.path;
    const central = await startCentral(dir, { ctlTimeoutS: 60 });
    teardown.push(() => central.stop());
    const { dbs, nb: nbctl } = central;
    const hv = await createNetns(`${runId()}-hv`);
    teardown.push(() => deleteNetns(hv));
    const ovs = await startOvs({ netns: hv });
    teardown.push(() => ovs.stop());
    const systemId = `bench-${kind}`;
    await setChassisConfig(ovs, { systemId, sbRemote: dbs.sbRemote });
    const cdir = join(dir, 'c');
    mkdirSync(cdir);
    let controllerPid: number;
    if (kind === 'real') {
      const d = await startRealController(ovs, cdir);
      controllerPid = d.pid;
      teardown.push(() => d.stop());
    } else {
      const c = await startOvntsController({
        dbs,
        dir: cdir,
        log: VERBOSE ? (l) => process.stderr.write(`${l}\n`) : () => undefined,
        ovs,
        systemId,
      });
      controllerPid = c.daemon.pid;
      teardown.push(() => c.stop());
    }

    const dhcp = (await nbctl('create', 'DHCP_Options', `cidr="${SUBNET}"`)).trim();
    const args: string[] = [
      'ls-add',
      'sw',
      '--',
      'dhcp-options-set-options',
      dhcp,
      'lease_time=3600',
      `router=${SERVER_IP}`,
      `server_id=${SERVER_IP}`,
      `server_mac=${SERVER_MAC}`,
    ];
    for (let i = 1; i <= N; i++) {
      const p = `d${i}`;
      args.push(
        '--',
        'lsp-add',
        'sw',
        p,
        '--',
        'lsp-set-addresses',
        p,
        `${mac(i)} ${ip(i)}`,
        '--',
        'lsp-set-port-security',
        p,
        `${mac(i)} ${ip(i)}`,
      );
      args.push('--', 'lsp-set-dhcpv4-options', p, dhcp);
    }
    await nbctl(...args);
    await waitFor(async () => (await ovs.vsctl('list-br')).includes('br-int'), { what: `br-int (${kind})` });

    const ports: string[] = [];
    for (let i = 1; i <= N; i++) {
      const p = `d${i}`;
      await ovs.vsctl('add-port', 'br-int', p, '--', 'set', 'Interface', p, 'type=internal', `external_ids:iface-id=${p}`);
      await waitFor(async () => (await run('ip', ['-n', hv, 'link', 'show', p])).code === 0, { what: `tap ${p}`, intervalMs: 5 });
      const ns = await createNetns(`${hv.slice(0, 7)}-${p}`);
      teardown.push(() => deleteNetns(ns));
      // No IPv6 (router solicitations, MLD) on the port: the only traffic is the generator's.
      await runOk('ip', [
        'netns',
        'exec',
        ns,
        'sysctl',
        '-q',
        '-w',
        'net.ipv6.conf.all.disable_ipv6=1',
        'net.ipv6.conf.default.disable_ipv6=1',
      ]);
      await runOk('ip', ['-n', hv, 'link', 'set', p, 'address', mac(i)]);
      await runOk('ip', ['-n', hv, 'link', 'set', p, 'netns', ns]);
      await runOk('ip', ['-n', ns, 'link', 'set', p, 'up']);
      ports.push(`${ns}:${p}:${mac(i)}`);
    }
    for (let i = 1; i <= N; i++) {
      await waitFor(async () => (await nbctl('get', 'Logical_Switch_Port', `d${i}`, 'up')).trim() === 'true', {
        what: `d${i} up (${kind})`,
        timeoutMs: 60000,
      });
    }
    await nbctl('--wait=hv', 'sync');
    return { kind, ports, controllerPid, vswitchdPid: ovs.vswitchd.pid, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function load(s: Setup, seconds: number): Promise<LoadResult> {
  const r = await run('python3', [GENERATOR, `--duration=${seconds}`, `--window=${WINDOW}`, ...s.ports], {
    timeoutMs: (seconds + 60) * 1000,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let out: LoadResult & { error?: string };
  try {
    out = JSON.parse(line) as LoadResult & { error?: string };
  } catch {
    throw new Error(`dhcp-load.py (${s.kind}) exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  }
  if (out.error !== undefined) throw new Error(`dhcp-load.py (${s.kind}): ${out.error}`);
  return out;
}

interface Totals {
  handshakes: number;
  naks: number;
  timeouts: number;
  seconds: number;
  cpu: number;
  vswitchdCpu: number;
  p50: number[];
  p99: number[];
}

const setups: Setup[] = [];
try {
  for (const kind of ['real', 'ovnts'] as Kind[]) setups.push(await build(kind));
  const totals = new Map<Kind, Totals>(
    setups.map((s) => [s.kind, { handshakes: 0, naks: 0, timeouts: 0, seconds: 0, cpu: 0, vswitchdCpu: 0, p50: [], p99: [] }]),
  );
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of setups) {
      const cpu0 = cpuSeconds(s.controllerPid);
      const vs0 = cpuSeconds(s.vswitchdPid);
      const r = await load(s, SECONDS);
      const t = totals.get(s.kind)!;
      t.cpu += cpuSeconds(s.controllerPid) - cpu0;
      t.vswitchdCpu += cpuSeconds(s.vswitchdPid) - vs0;
      t.handshakes += r.handshakes;
      t.naks += r.naks;
      t.timeouts += r.timeouts;
      t.seconds += r.elapsed_s;
      if (r.p50_ms !== null) t.p50.push(r.p50_ms);
      if (r.p99_ms !== null) t.p99.push(r.p99_ms);
      if (VERBOSE) process.stderr.write(`${s.kind} round ${round + 1}: ${JSON.stringify(r)}\n`);
    }
  }
  const rate = (k: Kind): number => totals.get(k)!.handshakes / totals.get(k)!.seconds;
  const lines = [`DHCP DISCOVER→OFFER→REQUEST→ACK handshakes/s: ${N} ports × ${WINDOW} in flight, ${ROUNDS} × ${SECONDS} s each`];
  for (const [k, t] of totals) {
    lines.push(
      `${k.padEnd(6)} ${rate(k).toFixed(0).padStart(6)}/s  handshakes=${t.handshakes} naks=${t.naks} timeouts=${t.timeouts}` +
        `  p50=${Math.max(...t.p50).toFixed(1)}ms p99=${Math.max(...t.p99).toFixed(1)}ms (worst round)  CPU: controller ${((100 * t.cpu) / t.seconds).toFixed(0)}% ovs-vswitchd ${((100 * t.vswitchdCpu) / t.seconds).toFixed(0)}%` +
        ` (${((1e6 * t.cpu) / Math.max(1, t.handshakes)).toFixed(0)} µs controller CPU per handshake)`,
    );
  }
  lines.push(`ratio ovnts/real: ${(rate('ovnts') / rate('real')).toFixed(2)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  process.stdout.write(
    `${JSON.stringify({ summary: [{ metric: 'DHCP handshakes', unit: '/s', real: rate('real'), ovnts: rate('ovnts') }] })}\n`,
  );
} finally {
  for (const s of setups) await s.stop();
  await cleanupAll();
}
