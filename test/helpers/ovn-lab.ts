/**
 * The seed lab (seeds 000/002) as a reusable fixture: switch `dmz` behind
 * router `tenant1`, DHCP options for 172.16.255.128/26, VM port `dmz-vm5` and
 * container ports `dmz-c51`/`dmz-c52` nested under it with VLAN tags 51/52; on
 * the host a private OVS with `br-int` and a VM bridge `br-vm5` patched to it,
 * whose internal ports `vm5`, `c51` (tag 51) and `c52` (tag 52) each move into
 * their own namespace, get a DHCP lease through OVN and ping the router and
 * each other.
 *
 * The fixture is parameterised by where the NB and SB databases live and by
 * which northd / controller run, so the same scenario runs on real OVN (the
 * baseline) and with ovnts parts swapped in.
 *
 * Layout of one run (`<id>` is unique per run):
 *   namespace `<id>-hv`   ovs-vswitchd + ovn-controller (the chassis); br-int, br-vm5
 *   namespaces `<id>-vm5`, `<id>-c51`, `<id>-c52`   the moved internal ports
 *   temp dir              every socket, pid, log and lease file
 */
import { join } from 'node:path';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createNetns, deleteNetns, dhclient, ifaceAddress, nsPrefix, pingDetail, runId, type DhcpLease } from './netns.js';
import { startOvs, socketAccepts, type OvsInstance } from './ovs.js';
import { onCleanup, run, runOk, spawnDaemon, tmpDir, waitFor, type Daemon } from './proc.js';
import { NB_SCHEMA, OVNTS, SB_SCHEMA, type ServerKind } from './ovsdb-servers.js';


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
          : await spawnDaemon(OVNTS, ['ovsdb-server', ...common], { name: `ovnts ovsdb-server(${db})`, readyWhen: () => socketAccepts(sock) }),
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

export type LabHostName = 'vm5' | 'c51' | 'c52';

export interface LabPing {
  /** What was pinged: `router` or another host's name. */
  readonly target: string;
  readonly dest: string;
  readonly ok: boolean;
  readonly transmitted: number;
  readonly received: number;
}

export interface LabHostResult {
  readonly name: LabHostName;
  readonly netns: string;
  readonly mac: string;
  /** The address the NB assigns this port (without prefix length). */
  readonly expectedAddress: string;
  /** The address dhclient configured, `a.b.c.d/len`; undefined without a lease. */
  readonly address: string | undefined;
  readonly dhcpError: string | undefined;
  readonly pings: readonly LabPing[];
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

/** The last `n` lines of each `*.log` file in `dir` and its subdirectories, each under a header. */
export function tailLogs(dir: string, n = 40): string {
  const out: string[] = [];
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.log')) out.push(`--- ${p}`, ...readFileSync(p, 'utf8').trimEnd().split('\n').slice(-n));
    }
  };
  walk(dir);
  return out.join('\n');
}

export const ROUTER_IP = '172.16.255.129';
export const ROUTER_MAC = '02:ac:10:ff:01:29';
export const SUBNET = '172.16.255.128/26';

interface HostSpec {
  readonly name: LabHostName;
  readonly lsp: string;
  readonly mac: string;
  readonly ip: string;
  readonly tag: number | undefined;
}

export const LAB_HOSTS: readonly HostSpec[] = [
  { name: 'vm5', lsp: 'dmz-vm5', mac: '02:ac:10:ff:01:32', ip: '172.16.255.132', tag: undefined },
  { name: 'c51', lsp: 'dmz-c51', mac: '02:ac:10:ff:01:33', ip: '172.16.255.133', tag: 51 },
  { name: 'c52', lsp: 'dmz-c52', mac: '02:ac:10:ff:01:34', ip: '172.16.255.134', tag: 52 },
];

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

async function startRealController(ctx: ComponentContext): Promise<RunningComponent> {
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
  const d = await spawnDaemon(pre.length > 0 ? pre[0]! : 'ovn-controller', pre.length > 0 ? [...pre.slice(1), 'ovn-controller', ...args] : args, {
    name: 'ovn-controller',
    // OVS_RUNDIR makes it find this instance's br-int.mgmt.
    env: { ...ovs.env, OVN_RUNDIR: ctx.dir, OVN_LOGDIR: ctx.dir, OVN_DBDIR: ctx.dir },
    onLine: ctx.log,
    readyWhen: async () => {
      const c = ctl();
      return c !== undefined && (await run('ovn-appctl', ['-t', c, 'connection-status'], { timeoutMs: 5000 })).stdout.trim() === 'connected';
    },
  });
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
    // The chassis configuration ovn-controller(8) reads ("Configuration"), plus the datapath type.
    await ovs.vsctl(
      'set',
      'Open_vSwitch',
      '.',
      `external_ids:system-id=${systemId}`,
      `external_ids:ovn-remote=${dbs.sbRemote}`,
      'external_ids:ovn-encap-type=geneve',
      'external_ids:ovn-encap-ip=127.0.0.1',
      'external_ids:ovn-bridge=br-int',
      'external_ids:ovn-bridge-datapath-type=netdev',
    );
    await ovs.vsctl(
      '--may-exist',
      'add-br',
      'br-int',
      '--',
      'set',
      'Bridge',
      'br-int',
      'datapath_type=netdev',
      'fail-mode=secure',
      'other-config:disable-in-band=true',
    );
    const controllerDir = join(dir, 'controller');
    mkdirSync(controllerDir);
    log(`[lab ${id}] starting ovn-controller (${typeof opts.controller === 'string' ? opts.controller : 'custom'})`);
    const controller = await (opts.controller === 'real' ? startRealController : opts.controller)({ dbs, dir: controllerDir, log, ovs, systemId });
    teardown.push(() => controller.stop());
    await waitFor(async () => (await sbctl('--bare', '--columns=name', 'find', 'Chassis', `name=${systemId}`)).trim() === systemId, {
      what: `chassis ${systemId} in the SB`,
    });

    // --- The logical network (seed 000 and the earlier posts' router and DHCP options).
    log(`[lab ${id}] programming the NB`);
    await nbctl('lr-add', 'tenant1');
    await nbctl('lrp-add', 'tenant1', 'tenant1-dmz', ROUTER_MAC, `${ROUTER_IP}/26`);
    await nbctl('ls-add', 'dmz');
    await nbctl('lsp-add', 'dmz', 'dmz-tenant1');
    await nbctl('lsp-set-type', 'dmz-tenant1', 'router');
    await nbctl('lsp-set-addresses', 'dmz-tenant1', 'router');
    await nbctl('lsp-set-options', 'dmz-tenant1', 'router-port=tenant1-dmz');
    await nbctl('dhcp-options-create', SUBNET);
    const dhcpUuid = (await nbctl('--bare', '--columns=_uuid', 'find', 'DHCP_Options', `cidr="${SUBNET}"`)).trim();
    if (!/^[0-9a-f-]{36}$/.test(dhcpUuid)) throw new Error(`DHCP_Options for ${SUBNET} not found: ${JSON.stringify(dhcpUuid)}`);
    await nbctl(
      'dhcp-options-set-options',
      dhcpUuid,
      'lease_time=3600',
      `router=${ROUTER_IP}`,
      `server_id=${ROUTER_IP}`,
      `server_mac=${ROUTER_MAC}`,
    );
    for (const h of LAB_HOSTS) {
      await nbctl('lsp-add', 'dmz', h.lsp);
      await nbctl('lsp-set-addresses', h.lsp, `${h.mac} ${h.ip}`);
      await nbctl('lsp-set-port-security', h.lsp, `${h.mac} ${h.ip}`);
      await nbctl('lsp-set-dhcpv4-options', h.lsp, dhcpUuid);
      if (h.tag !== undefined) {
        await nbctl('set', 'Logical_Switch_Port', h.lsp, 'parent_name=dmz-vm5');
        await nbctl('set', 'Logical_Switch_Port', h.lsp, `tag=${h.tag}`);
      }
    }

    // --- The VM side (seed 000's ovs-vsctl lines, on the netdev datapath).
    log(`[lab ${id}] building br-vm5 and the namespaces`);
    await ovs.vsctl('add-br', 'br-vm5', '--', 'set', 'Bridge', 'br-vm5', 'datapath_type=netdev');
    await ovs.vsctl('add-port', 'br-vm5', 'brvm5-brint', '--', 'set', 'Interface', 'brvm5-brint', 'type=patch', 'options:peer=brint-brvm5');
    await ovs.vsctl('add-port', 'br-int', 'brint-brvm5', '--', 'set', 'Interface', 'brint-brvm5', 'type=patch', 'options:peer=brvm5-brint');
    await ovs.vsctl('set', 'Interface', 'brint-brvm5', 'external_ids:iface-id=dmz-vm5');
    for (const h of LAB_HOSTS) {
      const ns = `${id}-${h.name}`;
      await createNetns(ns);
      teardown.push(() => deleteNetns(ns));
      if (h.tag === undefined) await ovs.vsctl('add-port', 'br-vm5', h.name, '--', 'set', 'interface', h.name, 'type=internal');
      else await ovs.vsctl('add-port', 'br-vm5', h.name, `tag=${h.tag}`, '--', 'set', 'interface', h.name, 'type=internal');
      await waitFor(async () => (await run('ip', ['-n', hvNetns, 'link', 'show', h.name])).code === 0, { what: `tap ${h.name} in ${hvNetns}` });
      await runOk('ip', ['-n', hvNetns, 'link', 'set', h.name, 'address', h.mac]);
      await runOk('ip', ['-n', hvNetns, 'link', 'set', h.name, 'netns', ns]);
      await runOk('ip', ['-n', ns, 'link', 'set', h.name, 'up']);
    }

    // --- Barriers: every port bound and up, flows installed on the chassis.
    for (const h of LAB_HOSTS) {
      await waitFor(async () => (await nbctl('get', 'Logical_Switch_Port', h.lsp, 'up')).trim() === 'true', {
        what: `${h.lsp} up`,
        timeoutMs: 30000,
      });
    }
    await waitFor(
      async () => (await ovs.vsctl('--if-exists', 'get', 'Interface', 'brint-brvm5', 'external_ids:ovn-installed')).trim() === '"true"',
      { what: 'ovn-installed on brint-brvm5', timeoutMs: 30000 },
    );
    await nbctl('--wait=hv', 'sync');
    const setupMs = Date.now() - t0;
    log(`[lab ${id}] all ports up after ${setupMs} ms`);

    // --- DHCP in every namespace.
    const t1 = Date.now();
    const leases = await Promise.all(
      LAB_HOSTS.map(async (h) => {
        const ns = `${id}-${h.name}`;
        try {
          const lease: DhcpLease = await dhclient(ns, h.name, { dir, timeoutS: opts.dhcpTimeoutS ?? 30, onLine: log });
          teardown.push(() => lease.stop());
          return { address: lease.address, error: undefined };
        } catch (e) {
          return { address: await ifaceAddress(ns, h.name), error: (e as Error).message };
        }
      }),
    );
    const dhcpMs = Date.now() - t1;
    log(`[lab ${id}] DHCP done after ${dhcpMs} ms: ${leases.map((l) => l.address ?? l.error).join(', ')}`);

    // --- Pings: the router, then every other host that has an address.
    const t2 = Date.now();
    const hosts = await Promise.all(
      LAB_HOSTS.map(async (h, i): Promise<LabHostResult> => {
        const ns = `${id}-${h.name}`;
        const lease = leases[i]!;
        const targets: { target: string; dest: string }[] = [{ target: 'router', dest: ROUTER_IP }];
        LAB_HOSTS.forEach((o, j) => {
          const a = leases[j]?.address;
          if (j !== i) targets.push({ target: o.name, dest: a ? a.split('/')[0]! : o.ip });
        });
        const pings: LabPing[] = [];
        if (lease.address !== undefined) {
          for (const t of targets) {
            const r = await pingDetail(ns, t.dest, { count: 3, timeoutS: 10 });
            pings.push({ ...t, ok: r.ok, transmitted: r.transmitted, received: r.received });
          }
        }
        return { name: h.name, netns: ns, mac: h.mac, expectedAddress: h.ip, address: lease.address, dhcpError: lease.error, pings };
      }),
    );
    const pingMs = Date.now() - t2;
    const totalMs = Date.now() - t0;
    log(`[lab ${id}] pings done after ${pingMs} ms; total ${totalMs} ms`);
    return { id, dir, hosts, timings: { setupMs, dhcpMs, pingMs, totalMs }, ovs, hvNetns, nbctl, sbctl, logs: (n) => tailLogs(dir, n), stop };
  } catch (e) {
    // The logs go with the temp dir: keep their tails in the error.
    if (e instanceof Error) e.message += `\n${tailLogs(dir, 20)}`;
    await stop().catch((te: unknown) => log(`[lab ${id}] teardown after failure: ${String(te)}`));
    throw e;
  }
}
