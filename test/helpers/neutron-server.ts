/**
 * A Neutron v2.0 API server for a test: the REAL neutron-server (Debian's Zed,
 * ML2/OVN, the oracle) or `ovnts ipam`, each on private OVN databases with a
 * northd, behind one handle so one command corpus runs against both.
 *
 * The real one follows RECIPES.md §5.1: sqlite made from the models and
 * stamped (alembic cannot migrate sqlite), `transport_url = fake:/`, noauth,
 * `api_workers = 1` (with 0 the OVN driver never initialises), the ovn-router
 * and trunk service plugins, and a real ovn-northd (without it NB_Global has
 * no max_tunid and network create fails). It runs in its own process group so
 * `stop()` ends the server and every worker it forked, and nothing else.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { statSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startOvnDatabases, type LabDatabases } from './ovn-lab.js';
import { startOvntsNorthd } from './ovnts-northd.js';
import { OVNTS, type ServerKind } from './ovsdb-servers.js';
import { diesWithTest, run, runOk, spawnDaemon, tmpDir, waitFor, type Daemon, type TmpDir } from './proc.js';

export type NeutronKind = 'real' | 'ovnts';

export interface NeutronHandle {
  readonly kind: NeutronKind;
  /** `http://127.0.0.1:PORT`, the endpoint for `--os-endpoint` / `OS_ENDPOINT`. */
  readonly url: string;
  readonly port: number;
  /** The NB database the server writes, for `ovn-nbctl --db=`. */
  readonly nbRemote: string;
  readonly dir: string;
  /** The server's own processes (the real one's workers included), for RSS. */
  pids(): Promise<number[]>;
  /** Resolves once the server's log has not grown for `quietMs` (at most `timeoutMs`). */
  settled(quietMs?: number, timeoutMs?: number): Promise<void>;
  /** Everything the server logged, for failure messages. */
  log(): string;
  /** Stops the server, its northd and databases, and removes the directory. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Called with each line the components print (e.g. `console.log` while debugging). */
  readonly onLine?: (line: string) => void;
}

/** A port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** True once `GET url/` answers with a versions document: the server's readiness barrier. */
export async function answersVersions(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { versions?: unknown };
    return res.status === 200 && Array.isArray(body.versions);
  } catch {
    return false;
  }
}

async function northdActive(ctl: string): Promise<boolean> {
  return (await run('ovn-appctl', ['-t', ctl, 'status'], { timeoutMs: 5000 })).stdout.trim() === 'Status: active';
}

/** OVN databases plus a northd (Debian's or ovnts's) in `dir`. */
async function startOvn(
  dir: string,
  dbKind: ServerKind,
  northdKind: NeutronKind,
  opts: StartOptions,
): Promise<{ dbs: LabDatabases; northd: { stop(): Promise<void> } }> {
  const dbs = await startOvnDatabases(dir, dbKind);
  try {
    const log = opts.onLine ?? (() => undefined);
    if (northdKind === 'ovnts') return { dbs, northd: await startOvntsNorthd({ dbs, dir, log }) };
    const ctl = join(dir, 'northd.ctl');
    const northd = await spawnDaemon(
      'ovn-northd',
      [
        `--ovnnb-db=${dbs.nbRemote}`,
        `--ovnsb-db=${dbs.sbRemote}`,
        `--unixctl=${ctl}`,
        `--log-file=${join(dir, 'northd.log')}`,
        `--pidfile=${join(dir, 'northd.pid')}`,
        '-vconsole:off',
      ],
      { name: 'ovn-northd', onLine: log, readyWhen: () => northdActive(ctl) },
    );
    return { dbs, northd };
  } catch (e) {
    await dbs.stop();
    throw e;
  }
}

function neutronConf(dir: string, host: string, port: number, nbRemote: string, sbRemote: string, vniRanges: string): string {
  return `[DEFAULT]
core_plugin = ml2
service_plugins = ovn-router,trunk
auth_strategy = noauth
bind_host = ${host}
bind_port = ${port}
transport_url = fake:/
api_workers = 1
graceful_shutdown_timeout = 5
rpc_workers = 0
rpc_state_report_workers = 0
state_path = ${join(dir, 'state')}
log_file = ${join(dir, 'neutron-server.log')}
[database]
connection = sqlite:///${join(dir, 'neutron.sqlite')}
[oslo_concurrency]
lock_path = ${join(dir, 'lock')}
[ml2]
type_drivers = geneve,flat,vlan
tenant_network_types = geneve
mechanism_drivers = ovn
extension_drivers = port_security
[ml2_type_geneve]
vni_ranges = ${vniRanges}
max_header_size = 38
[ovn]
ovn_nb_connection = ${nbRemote}
ovn_sb_connection = ${sbRemote}
ovn_metadata_enabled = false
`;
}

/**
 * Creates the sqlite schema from Neutron's models and stamps it at the alembic
 * heads, in one Python process (two would each spend seconds importing neutron).
 */
const MAKE_SCHEMA = `
import sys
import sqlalchemy as sa
from neutron.db.migration.models import head  # noqa: F401 (registers every model)
from neutron_lib.db import model_base
model_base.BASEV2.metadata.create_all(sa.create_engine(sys.argv[1]))
from neutron.db.migration import cli
sys.argv = ['neutron-db-manage', '--config-file', sys.argv[2], 'stamp', 'heads']
cli.main()
`;

/**
 * Writes DIR/neutron.conf (RECIPES §5.1: ML2/OVN, noauth, sqlite, fake
 * transport) for a server on HOST:PORT over the given NB and SB (geneve VNIs
 * from `vniRanges`), and makes its
 * stamped sqlite schema; returns the config file's path.
 */
export async function prepareNeutron(
  dir: string,
  host: string,
  port: number,
  nbRemote: string,
  sbRemote: string,
  vniRanges = '1:65536',
): Promise<string> {
  for (const d of ['state', 'lock']) mkdirSync(join(dir, d), { recursive: true });
  const conf = join(dir, 'neutron.conf');
  writeFileSync(conf, neutronConf(dir, host, port, nbRemote, sbRemote, vniRanges));
  await runOk('/usr/bin/python3', ['-c', MAKE_SCHEMA, `sqlite:///${join(dir, 'neutron.sqlite')}`, conf], { timeoutMs: 120000 });
  return conf;
}

/** The pids whose process group is `pgid` (the server and its workers). */
async function groupPids(pgid: number): Promise<number[]> {
  const out = (await run('ps', ['-o', 'pid=', '-g', String(pgid)], { timeoutMs: 5000 })).stdout;
  return out
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** Waits until `size()` has not changed for `quietMs`. */
async function quiet(size: () => number, quietMs: number, timeoutMs: number): Promise<void> {
  let last = size();
  let since = Date.now();
  await waitFor(
    () => {
      const now = size();
      if (now !== last) {
        last = now;
        since = Date.now();
      }
      return Date.now() - since >= quietMs;
    },
    { timeoutMs, intervalMs: 100, what: 'the server log to go quiet' },
  ).catch(() => undefined); // a server that never stops logging is compared anyway
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The real neutron-server (Zed, ML2/OVN) on its own NB/SB and ovn-northd. */
export async function startRealNeutron(opts: StartOptions = {}): Promise<NeutronHandle> {
  const tmp = tmpDir('ovnts-neutron');
  const dir = tmp.path;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const conf = join(dir, 'neutron.conf');
  const logFile = join(dir, 'neutron-server.log');
  let ovn: Awaited<ReturnType<typeof startOvn>> | undefined;
  let server: ChildProcess | undefined;
  let output = '';
  // Kills the whole group: the server forks api, rpc, maintenance and periodic workers.
  const killGroup = (sig: NodeJS.Signals): void => {
    if (server?.pid !== undefined && server.exitCode === null && server.signalCode === null) {
      try {
        process.kill(-server.pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  const onExit = (): void => killGroup('SIGKILL');
  const stop = async (): Promise<void> => {
    process.off('exit', onExit);
    if (server?.pid !== undefined) {
      const pgid = server.pid;
      const exited =
        server.exitCode === null && server.signalCode === null ? new Promise((r) => server?.once('exit', r)) : Promise.resolve();
      killGroup('SIGTERM');
      const t = setTimeout(() => killGroup('SIGKILL'), 8000);
      await exited;
      clearTimeout(t);
      // Workers outlive a killed parent for a moment; wait until the group is empty.
      await waitFor(async () => (await groupPids(pgid)).length === 0, { timeoutMs: 10000, what: 'neutron workers to exit' }).catch(() => {
        try {
          process.kill(-pgid, 'SIGKILL');
        } catch {
          /* gone */
        }
      });
    }
    await ovn?.northd.stop();
    await ovn?.dbs.stop();
    tmp.cleanup();
  };
  try {
    const [started] = await Promise.all([
      startOvn(dir, 'real', 'real', opts),
      (async () => {
        // The schema does not need the databases; make it while they start
        // (startOvnDatabases puts their sockets at DIR/nb.sock and DIR/sb.sock).
        await prepareNeutron(dir, '127.0.0.1', port, `unix:${join(dir, 'nb.sock')}`, `unix:${join(dir, 'sb.sock')}`);
      })(),
    ]);
    ovn = started;
    server = spawn(...diesWithTest('neutron-server', ['--config-file', conf]), { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    process.on('exit', onExit);
    const onData = (b: Buffer): void => {
      output = (output + b.toString()).slice(-65536);
      if (opts.onLine) for (const l of b.toString().split('\n')) if (l.trim() !== '') opts.onLine(`neutron-server: ${l}`);
    };
    server.stdout?.on('data', onData);
    server.stderr?.on('data', onData);
    const proc = server;
    await waitFor(
      async () => {
        if (proc.exitCode !== null || proc.signalCode !== null)
          throw new Error(`neutron-server exited (${proc.exitCode ?? proc.signalCode}) before it answered: ${output.trim()}`);
        return answersVersions(url);
      },
      { timeoutMs: 120000, intervalMs: 200, what: 'neutron-server to answer GET /' },
    );
  } catch (e) {
    await stop();
    throw e;
  }
  const pgid = server.pid ?? -1;
  return {
    kind: 'real',
    url,
    port,
    nbRemote: ovn.dbs.nbRemote,
    dir,
    pids: () => groupPids(pgid),
    settled: (quietMs = 2000, timeoutMs = 30000) => quiet(() => fileSize(logFile), quietMs, timeoutMs),
    log: () => output,
    stop,
  };
}

export interface OvntsIpamOptions extends StartOptions {
  /** The NB/SB servers: Debian's ovsdb-server or `ovnts ovsdb-server` (default). */
  readonly db?: ServerKind;
  /** Debian's ovn-northd or `ovnts northd` (default). */
  readonly northd?: NeutronKind;
  /** Extra `ovnts ipam` arguments. */
  readonly args?: readonly string[];
}

/** `ovnts ipam` on its own OVN databases and northd. */
export async function startOvntsIpam(opts: OvntsIpamOptions = {}): Promise<NeutronHandle> {
  const tmp: TmpDir = tmpDir('ovnts-ipam');
  const dir = tmp.path;
  let ovn: Awaited<ReturnType<typeof startOvn>> | undefined;
  let ipam: Daemon | undefined;
  const stop = async (): Promise<void> => {
    await ipam?.stop();
    await ovn?.northd.stop();
    await ovn?.dbs.stop();
    tmp.cleanup();
  };
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  try {
    ovn = await startOvn(dir, opts.db ?? 'ovnts', opts.northd ?? 'ovnts', opts);
    const spawnOpts = { name: 'ovnts ipam', readyWhen: () => answersVersions(url), readyTimeoutMs: 30000 };
    const args = [
      'ipam',
      `--listen=127.0.0.1:${port}`,
      `--ovnnb-db=${ovn.dbs.nbRemote}`,
      `--unixctl=${join(dir, 'ipam.ctl')}`,
      `--log-file=${join(dir, 'ipam.log')}`,
    ];
    ipam = await spawnDaemon(OVNTS, [...args, ...(opts.args ?? [])], opts.onLine ? { ...spawnOpts, onLine: opts.onLine } : spawnOpts);
  } catch (e) {
    await stop();
    throw e;
  }
  const daemon = ipam;
  return {
    kind: 'ovnts',
    url,
    port,
    nbRemote: ovn.dbs.nbRemote,
    dir,
    pids: async () => (daemon.running() ? [daemon.pid] : []),
    settled: (quietMs = 500, timeoutMs = 10000) =>
      quiet(() => fileSize(join(dir, 'ipam.log')) + daemon.output().length, quietMs, timeoutMs),
    log: () => daemon.output(),
    stop,
  };
}

/** The starter for one kind, for code that runs the same work against both. */
export function startNeutron(kind: NeutronKind, opts: StartOptions = {}): Promise<NeutronHandle> {
  return kind === 'real' ? startRealNeutron(opts) : startOvntsIpam(opts);
}
