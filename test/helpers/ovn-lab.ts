/**
 * The seed lab (seeds 000/002) as a reusable fixture: switch `dmz` behind
 * router `tenant1`, DHCP options for 172.16.255.128/26, VM port `dmz-vm5` and
 * container ports `dmz-c51`/`dmz-c52` nested under it with VLAN tags 51/52; on
 * the host a private OVS with `br-int` and a VM bridge `br-vm5` patched to it,
 * whose internal ports `vm5`, `c51` (tag 51) and `c52` (tag 52) each move into
 * their own namespace, get a DHCP lease through OVN and ping the router and
 * each other.
 *
 * The scenario's steps are src/lab/seed.ts, the ones `ovnts lab` runs; this
 * fixture runs them with the real ovn-nbctl and the tests' tracked processes,
 * parameterised by where the NB and SB databases live and by which northd /
 * controller run, so the same scenario runs on real OVN (the baseline) and
 * with ovnts parts swapped in.
 *
 * Layout of one run (`<id>` is unique per run):
 *   namespace `<id>-hv`   ovs-vswitchd + ovn-controller (the chassis); br-int, br-vm5
 *   namespaces `<id>-vm5`, `<id>-c51`, `<id>-c52`   the moved internal ports
 *   temp dir              every socket, pid, log and lease file
 */
import { join } from 'node:path';
import { mkdirSync, readdirSync } from 'node:fs';
import { createNetns, deleteNetns, dhclient, nsPrefix, runId } from './netns.js';
import { startOvs, socketAccepts, type OvsInstance } from './ovs.js';
import { onCleanup, run, runOk, spawnDaemon, tmpDir, waitFor, type Daemon } from './proc.js';
import { NB_SCHEMA, OVNTS, SB_SCHEMA, type ServerKind } from './ovsdb-servers.js';
import { tailLogs } from '../../src/lab/logs.js';
import { ping } from '../../src/lab/netns.js';
import {
  LAB_HOSTS,
  PREFIX_LEN,
  configureChassis,
  plugHosts,
  programNorthbound,
  runSteps,
  waitUntilWired,
  type LabHostResult,
  type SeedHost,
} from '../../src/lab/seed.js';

// The scenario itself lives in src/lab (the `ovnts lab` command runs it too).
export { LAB_HOSTS, ROUTER_IP, ROUTER_MAC, SUBNET, type LabHostName, type LabHostResult, type LabPing } from '../../src/lab/seed.js';
export { tailLogs };

/** Where the lab's OVN databases live. */
export interface LabDatabases {
  /** OVSDB remote of OVN_Northbound, e.g. `unix:/tmp/x/nb.sock`. */
  readonly nbRemote: string;
  /** OVSDB remote of OVN_Southbound. */
  readonly sbRemote: string;
  stop(): Promise<void>;
}

/**
 * The lab's OVN databases, one server per database as ovn-ctl runs them —
 * the real ovsdb-server or `ovnts ovsdb-server` — on fresh `nb.db`/`sb.db`
 * files made from schemas/ and listening on `nb.sock` / `sb.sock` in `dir`.
 * The caller owns `dir`.
 */
export async function startOvnDatabases(dir: string, kind: ServerKind = 'real'): Promise<LabDatabases> {
  const servers: Daemon[] = [];
  const stop = async (): Promise<void> => {
    for (const s of servers) await s.stop(2000);
  };
  try {
    for (const [db, schema] of [
      ['nb', NB_SCHEMA],
      ['sb', SB_SCHEMA],
    ] as const) {
      const file = join(dir, `${db}.db`);
      const sock = join(dir, `${db}.sock`);
      const common = [file, `--remote=punix:${sock}`, `--pidfile=${join(dir, `${db}.pid`)}`, `--log-file=${join(dir, `${db}.log`)}`];
      if (kind === 'real') await runOk('ovsdb-tool', ['create', file, schema]);
      else await runOk(OVNTS, ['ovsdb-tool', 'create', file, schema]);
      servers.push(
        kind === 'real'
          ? await spawnDaemon('ovsdb-server', [...common, `--unixctl=${join(dir, `${db}.ctl`)}`, '--no-chdir', '-vconsole:warn'], {
              name: `ovsdb-server(${db})`,
              readyWhen: () => socketAccepts(sock),
            })
          : await spawnDaemon(OVNTS, ['ovsdb-server', ...common], {
              name: `ovnts ovsdb-server(${db})`,
              readyWhen: () => socketAccepts(sock),
            }),
      );
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { nbRemote: `unix:${join(dir, 'nb.sock')}`, sbRemote: `unix:${join(dir, 'sb.sock')}`, stop };
}

/** What a component starter gets: the lab's databases, private dir, logger and (for controllers) the OVS. */
export interface ComponentContext {
  readonly dbs: LabDatabases;
  readonly dir: string;
  readonly log: (line: string) => void;
  /** Set for controllers: the chassis' OVS instance and its namespace. */
  readonly ovs?: OvsInstance;
  /** The chassis name (Open_vSwitch external_ids:system-id). */
  readonly systemId: string;
}

export interface RunningComponent {
  stop(): Promise<void>;
}

/** `'real'` runs Debian's OVN binary; a function starts a replacement (e.g. ovnts). */
export type ComponentChoice = 'real' | ((ctx: ComponentContext) => Promise<RunningComponent>);

export interface SeedLabOptions {
  readonly dbs: LabDatabases;
  readonly northd: ComponentChoice;
  readonly controller: ComponentChoice;
  /** Progress and daemon output lines. */
  readonly log?: (line: string) => void;
  /** Seconds each dhclient may try. Default 30. */
  readonly dhcpTimeoutS?: number;
}

export interface LabResult {
  readonly id: string;
  readonly dir: string;
  readonly hosts: readonly LabHostResult[];
  /** Milliseconds: setup until all ports up, DHCP, pings, total. */
  readonly timings: { readonly setupMs: number; readonly dhcpMs: number; readonly pingMs: number; readonly totalMs: number };
  readonly ovs: OvsInstance;
  readonly hvNetns: string;
  /** `ovn-nbctl --db=<NB> ARGS` → stdout. */
  nbctl(...args: string[]): Promise<string>;
  /** `ovn-sbctl --db=<SB> ARGS` → stdout. */
  sbctl(...args: string[]): Promise<string>;
  /** The last lines of every daemon log of this run (northd, OVS, controller), for failure messages. */
  logs(linesPerFile?: number): string;
  /** Tears down everything the lab started (not the databases). Idempotent. */
  stop(): Promise<void>;
}

async function startRealNorthd(ctx: ComponentContext): Promise<RunningComponent> {
  const ctl = join(ctx.dir, 'ovn-northd.ctl');
  const d = await spawnDaemon(
    'ovn-northd',
    [
      `--ovnnb-db=${ctx.dbs.nbRemote}`,
      `--ovnsb-db=${ctx.dbs.sbRemote}`,
      `--unixctl=${ctl}`,
      `--pidfile=${join(ctx.dir, 'ovn-northd.pid')}`,
      `--log-file=${join(ctx.dir, 'ovn-northd.log')}`,
      '--no-chdir',
      '-vconsole:err',
    ],
    {
      env: { OVN_RUNDIR: ctx.dir, OVN_LOGDIR: ctx.dir, OVN_DBDIR: ctx.dir },
      onLine: ctx.log,
      readyWhen: async () => /Status: active/.test((await run('ovn-appctl', ['-t', ctl, 'status'], { timeoutMs: 5000 })).stdout),
    },
  );
  return { stop: () => d.stop() };
}

/** The real ovn-controller on `ctx.ovs` (what `controller: 'real'` runs); exported for tests that give it another context. */
export async function startRealController(ctx: ComponentContext): Promise<RunningComponent> {
  const ovs = ctx.ovs!;
  const pre = nsPrefix(ovs.netns);
  // ovn-controller 23.03 has no --unixctl: its control socket is $OVN_RUNDIR/ovn-controller.<pid>.ctl.
  const ctl = (): string | undefined => {
    const f = readdirSync(ctx.dir).find((n) => /^ovn-controller\.\d+\.ctl$/.test(n));
    return f === undefined ? undefined : join(ctx.dir, f);
  };
  const args = [
    ovs.dbRemote,
    `--pidfile=${join(ctx.dir, 'ovn-controller.pid')}`,
    `--log-file=${join(ctx.dir, 'ovn-controller.log')}`,
    '--no-chdir',
    '-vconsole:err',
  ];
  const d = await spawnDaemon(
    pre.length > 0 ? pre[0]! : 'ovn-controller',
    pre.length > 0 ? [...pre.slice(1), 'ovn-controller', ...args] : args,
    {
      name: 'ovn-controller',
      // OVS_RUNDIR makes it find this instance's br-int.mgmt.
      env: { ...ovs.env, OVN_RUNDIR: ctx.dir, OVN_LOGDIR: ctx.dir, OVN_DBDIR: ctx.dir },
      onLine: ctx.log,
      readyWhen: async () => {
        const c = ctl();
        return (
          c !== undefined && (await run('ovn-appctl', ['-t', c, 'connection-status'], { timeoutMs: 5000 })).stdout.trim() === 'connected'
        );
      },
    },
  );
  return { stop: () => d.stop() };
}

/**
 * Builds the seed lab, gets every namespace a lease and pings the router and
 * the other namespaces. DHCP and ping failures are recorded in the result (the
 * caller asserts); setup failures reject after tearing down what was started.
 */
export async function runSeedLab(opts: SeedLabOptions): Promise<LabResult> {
  const t0 = Date.now();
  const log = opts.log ?? ((): void => undefined);
  const id = runId();
  const tmp = tmpDir(`ovnts-lab-${id}`);
  const dir = tmp.path;
  const hvNetns = `${id}-hv`;
  const systemId = `${id}-chassis`;
  const { dbs } = opts;
  const teardown: (() => Promise<void>)[] = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    unregister();
    const errors: unknown[] = [];
    for (const fn of teardown.reverse()) {
      try {
        await fn();
      } catch (e) {
        errors.push(e);
      }
    }
    tmp.cleanup();
    if (errors.length > 0) throw new AggregateError(errors, `seed lab teardown: ${errors.map(String).join('; ')}`);
  };
  const unregister = onCleanup(stop);
  const nbctl = (...args: string[]): Promise<string> => runOk('ovn-nbctl', [`--db=${dbs.nbRemote}`, '--timeout=30', ...args]);
  const sbctl = (...args: string[]): Promise<string> => runOk('ovn-sbctl', [`--db=${dbs.sbRemote}`, '--timeout=30', ...args]);

  try {
    // --- OVN central: northd.
    const northdDir = join(dir, 'northd');
    mkdirSync(northdDir);
    log(`[lab ${id}] starting northd (${typeof opts.northd === 'string' ? opts.northd : 'custom'})`);
    const northd = await (opts.northd === 'real' ? startRealNorthd : opts.northd)({ dbs, dir: northdDir, log, systemId });
    teardown.push(() => northd.stop());

    // --- The chassis: a private OVS in its own namespace.
    await createNetns(hvNetns);
    teardown.push(() => deleteNetns(hvNetns));
    const ovsDir = join(dir, 'ovs');
    mkdirSync(ovsDir);
    log(`[lab ${id}] starting OVS in ${hvNetns}`);
    const ovs = await startOvs({ netns: hvNetns, dir: ovsDir, log });
    teardown.push(() => ovs.stop());
    await configureChassis(ovs.vsctl, { systemId, sbRemote: dbs.sbRemote });
    const controllerDir = join(dir, 'controller');
    mkdirSync(controllerDir);
    log(`[lab ${id}] starting ovn-controller (${typeof opts.controller === 'string' ? opts.controller : 'custom'})`);
    const controller = await (opts.controller === 'real' ? startRealController : opts.controller)({
      dbs,
      dir: controllerDir,
      log,
      ovs,
      systemId,
    });
    teardown.push(() => controller.stop());
    await waitFor(async () => (await sbctl('--bare', '--columns=name', 'find', 'Chassis', `name=${systemId}`)).trim() === systemId, {
      what: `chassis ${systemId} in the SB`,
    });

    // --- The logical network (seed 000 and the earlier posts' router and DHCP options).
    log(`[lab ${id}] programming the NB`);
    await programNorthbound(nbctl);

    // --- The VM side, then the barriers: every port bound and up, flows installed on the chassis.
    log(`[lab ${id}] building br-vm5 and the namespaces`);
    // The test's tracked namespaces and dhclients: a crashed test run leaves none behind.
    const host: SeedHost = {
      ip: (...args) => runOk('ip', args),
      createNetns: async (ns) => {
        await createNetns(ns);
        teardown.push(() => deleteNetns(ns));
      },
      dhcp: async (ns, iface) => {
        const lease = await dhclient(ns, iface, { dir, timeoutS: opts.dhcpTimeoutS ?? 30, onLine: log });
        teardown.push(() => lease.stop());
        return lease.address;
      },
      ping: (ns, dest) => ping(ns, dest),
    };
    const netnsOf = (h: { readonly name: string }): string => `${id}-${h.name}`;
    await plugHosts(host, ovs.vsctl, hvNetns, netnsOf);
    await waitUntilWired(nbctl, ovs.vsctl);
    const setupMs = Date.now() - t0;
    log(`[lab ${id}] all ports up after ${setupMs} ms`);

    // --- DHCP in every namespace, then pings: the router and every other host.
    const t1 = Date.now();
    let t2 = t1;
    const hosts: LabHostResult[] = await runSteps(host, { netnsOf, onLeases: () => (t2 = Date.now()) });
    const dhcpMs = t2 - t1;
    log(`[lab ${id}] DHCP done after ${dhcpMs} ms: ${hosts.map((h) => h.address ?? h.dhcpError).join(', ')}`);
    const pingMs = Date.now() - t2;
    const totalMs = Date.now() - t0;
    log(`[lab ${id}] pings done after ${pingMs} ms; total ${totalMs} ms`);
    return {
      id,
      dir,
      hosts,
      timings: { setupMs, dhcpMs, pingMs, totalMs },
      ovs,
      hvNetns,
      nbctl,
      sbctl,
      logs: (n) => tailLogs(dir, n),
      stop,
    };
  } catch (e) {
    // The logs go with the temp dir: keep their tails in the error.
    if (e instanceof Error) e.message += `\n${tailLogs(dir, 20)}`;
    await stop().catch((te: unknown) => log(`[lab ${id}] teardown after failure: ${String(te)}`));
    throw e;
  }
}

/**
 * What went wrong in a lab run, one line each: a host without its NB address,
 * a host that did not run a ping to every other lab host and the router, a
 * ping that failed. Empty when the lab worked.
 */
export function labFailures(result: Pick<LabResult, 'hosts'>): string[] {
  const failures: string[] = [];
  for (const spec of LAB_HOSTS) {
    const h = result.hosts.find((x) => x.name === spec.name);
    if (h === undefined) {
      failures.push(`${spec.name}: no result`);
      continue;
    }
    if (h.address !== `${spec.ip}/${PREFIX_LEN}`)
      failures.push(`${h.name}: address ${h.address ?? 'none'} (expected ${spec.ip}/${PREFIX_LEN}) ${h.dhcpError ?? ''}`);
    if (h.pings.length !== LAB_HOSTS.length) failures.push(`${h.name}: ${h.pings.length} pings run, expected ${LAB_HOSTS.length}`);
    for (const p of h.pings) if (!p.ok) failures.push(`${h.name} -> ${p.target} (${p.dest}): ${p.received}/${p.transmitted}`);
  }
  return failures;
}
