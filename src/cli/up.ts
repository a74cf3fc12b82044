/**
 * `ovnts up`: the default single-host deployment in one process — the embedded
 * OVN_Northbound and OVN_Southbound databases (each on its own socket, as
 * ovn-ctl lays them out: `<rundir>/ovnnb_db.sock`, `<rundir>/ovnsb_db.sock`),
 * northd, and the controller for this host's Open vSwitch. The components are
 * the same ones the separate daemons run and talk OVSDB to each other.
 *
 * The controller reads its chassis configuration from the local Open_vSwitch
 * row as ovn-controller(8) does (`external_ids:system-id`, `ovn-remote` — point
 * it at `unix:<rundir>/ovnsb_db.sock` —, `ovn-encap-type`, `ovn-encap-ip`).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HostedDatabase } from '../ovsdb/hosted-database.js';
import { OvsdbServer } from '../ovsdb/server.js';
import { DatabaseLog } from '../ovsdb/storage.js';
import { loadSchemaJson, SCHEMA_FILES } from '../ovsdb/schema-files.js';
import { createNorthd } from '../northd/northd.js';
import { createController, ovsRunDir } from '../controller/controller.js';
import { createFlowPipeline } from '../controller/flow-pipeline.js';
import {
  openDaemonLogger,
  daemonMetricsScope,
  serveDaemonMetrics,
  registerVlogCommands,
  defaultDaemonOptions,
  detach,
  notifyReady,
  daemonOptions,
  runUntilStopped,
  beginDaemon,
  startControlSocket,
  shouldDetach,
  type DaemonOptions,
} from './daemon.js';
import { parseCommandLine, type CommandLine } from './command-line.js';
import { nonEmpty } from './options.js';
import { versionText } from './version.js';
import { createIpamServer } from '../ipam/server.js';
import { createKeystoneAuthenticator } from '../ipam/keystone/index.js';
import { createUiServer } from '../ui/server.js';
import { parseListen } from './ipam.js';
import { registerControllerCommands, registerNorthdCommands } from './appctl-commands.js';
import { UnixctlServer } from '../lib/unixctl.js';
import { subScope, type MetricsScope } from '../lib/metrics.js';
import { makeDirectory } from '../lib/make-directory.js';

const PROG = 'ovnts up';
/** The log modules of the components `up` runs. */
const UP_MODULES = ['ovsdb-nb', 'ovsdb-sb', 'northd', 'controller', 'up', 'unixctl', 'ui'];

interface Options extends DaemonOptions {
  rundir: string;
  dbdir: string;
  ovsRemote: string;
  controller: boolean;
  /** --listen=IP: also serve the NB on IP:6641 and the SB on IP:6642 (a central node for many hosts). */
  listen: string | undefined;
  /** Where the Neutron API listens; undefined with --no-ipam. */
  ipam: { host: string; port: number } | undefined;
  /** --ipam was given: failing to listen there is an error (the default address is best effort). */
  ipamExplicit: boolean;
  /** --ipam-users=FILE: the Neutron API in Keystone mode, users from FILE (as `ovnts ipam --auth=keystone --users=FILE`). */
  ipamUsers: string | undefined;
  /** Where the topology page (ovnts ui) listens; undefined with --no-ui. */
  ui: { host: string; port: number } | undefined;
  /** --ui was given: failing to listen there is an error. */
  uiExplicit: boolean;
}

export const UP_COMMAND_LINE: CommandLine<Options> = {
  program: PROG,
  summary: "NB and SB databases, northd and this host's controller in one process (ovnts)",
  usage: ['ovnts up [OPTIONS]'],
  options: [
    {
      name: 'rundir',
      arg: 'required',
      metavar: 'DIR',
      help: 'sockets ovnnb_db.sock, ovnsb_db.sock',
      default: '$OVN_RUNDIR or /var/run/ovn',
      set: (o, v) => void (o.rundir = resolve(nonEmpty('rundir', v))),
    },
    {
      name: 'dbdir',
      arg: 'required',
      metavar: 'DIR',
      help: 'database files ovnnb_db.db, ovnsb_db.db',
      default: '$OVN_DBDIR or /var/lib/ovn',
      set: (o, v) => void (o.dbdir = resolve(nonEmpty('dbdir', v))),
    },
    {
      name: 'ovs-db',
      arg: 'required',
      metavar: 'REMOTE',
      help: "this host's Open vSwitch database",
      default: 'unix:$OVS_RUNDIR/db.sock',
      set: (o, v) => void (o.ovsRemote = nonEmpty('ovs-db', v)),
    },
    { name: 'no-controller', help: 'databases and northd only (a central node)', set: (o) => void (o.controller = false) },
    {
      name: 'listen',
      arg: 'required',
      metavar: 'IP',
      help: 'also serve the NB on tcp IP:6641, the SB on tcp IP:6642 and\n(unless --ipam or --no-ipam says otherwise) the Neutron API on IP:9696',
      set: (o, v) => {
        const ip = nonEmpty('listen', v);
        if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) throw new Error(`--listen: "${ip}" is not an IPv4 address`);
        o.listen = ip;
      },
    },
    {
      name: 'ipam',
      arg: 'required',
      metavar: 'ADDR:PORT',
      help: 'serve the Neutron v2.0 API (ovnts ipam, noauth) here',
      default: '127.0.0.1:9696',
      set: (o, v) => {
        o.ipam = parseListen(nonEmpty('ipam', v));
        o.ipamExplicit = true;
      },
    },
    { name: 'no-ipam', help: 'no Neutron API', set: (o) => void (o.ipam = undefined) },
    {
      name: 'ipam-users',
      arg: 'required',
      metavar: 'FILE',
      help: 'the Neutron API with Keystone auth, users from FILE\n(as ovnts ipam --auth=keystone --users=FILE)',
      set: (o, v) => void (o.ipamUsers = nonEmpty('ipam-users', v)),
    },
    {
      name: 'ui',
      arg: 'required',
      metavar: 'ADDR:PORT',
      help: 'serve the topology and trace page (ovnts ui) here',
      default: '127.0.0.1:8080',
      set: (o, v) => {
        o.ui = parseListen(nonEmpty('ui', v));
        o.uiExplicit = true;
      },
    },
    { name: 'no-ui', help: 'no topology page', set: (o) => void (o.ui = undefined) },
    ...daemonOptions<Options>(
      { program: 'ovnts-up', rundir: process.env['OVN_RUNDIR'] ?? '.', logdir: process.env['OVN_LOGDIR'] ?? '.' },
      'RUNDIR/ovnts-up.PID.ctl; it serves the commands of northd and\nthe controller, exit, version and vlog/*',
    ),
  ],
  defaults: () => ({
    rundir: process.env['OVN_RUNDIR'] ?? '/var/run/ovn',
    dbdir: process.env['OVN_DBDIR'] ?? '/var/lib/ovn',
    ovsRemote: `unix:${ovsRunDir()}/db.sock`,
    controller: true,
    listen: undefined,
    ipam: { host: '127.0.0.1', port: 9696 },
    ipamExplicit: false,
    ipamUsers: undefined,
    ui: { host: '127.0.0.1', port: 8080 },
    uiExplicit: false,
    ...defaultDaemonOptions(),
  }),
  finish: (o, args) => {
    if (args[0] !== undefined) throw new Error(`non-option argument '${args[0]}'; use --help for usage`);
    // A central node serves the Neutron API on its address too (seed 004's IPAM on IP:9696).
    if (o.listen !== undefined && o.ipam !== undefined && !o.ipamExplicit)
      return { ...o, ipam: { host: o.listen, port: 9696 }, ipamExplicit: true };
    return o;
  },
};

/** Opens a database file, creating it from the schema first when it does not exist. */
async function openOrCreate(file: string, schemaFile: string, log: (m: string) => void): Promise<HostedDatabase> {
  if (!existsSync(file)) {
    const created = await DatabaseLog.create(file, loadSchemaJson(schemaFile));
    await created.close();
    log(`created ${file}`);
  }
  return HostedDatabase.open(file, { log });
}

export async function up(args: string[]): Promise<number> {
  const line = parseCommandLine(UP_COMMAND_LINE, args);
  if (typeof line === 'number') return line;
  const opts = line.options;
  if (shouldDetach(opts)) return detach('up', args);
  const logger = openDaemonLogger(PROG, { file: opts.logFile, layout: 'brief', modules: UP_MODULES, verbose: opts.verbose });
  if (logger === undefined) return 1;
  // up makes its own directories first: its pid file and control socket usually live in the run directory.
  try {
    makeDirectory(opts.rundir);
    makeDirectory(opts.dbdir);
  } catch (e) {
    process.stderr.write(`${PROG}: ${(e as Error).message}\n`);
    return 1;
  }
  const run = beginDaemon(PROG, opts.pidfile);
  if (typeof run === 'number') return run;
  const log = (name: string): ((m: string) => void) => logger.module(name);
  const ctl = new UnixctlServer({ path: opts.unixctl ?? join(opts.rundir, `ovnts-up.${process.pid}.ctl`), log: log('unixctl') });
  let exit: () => void = () => undefined;
  ctl.register('exit', '', 0, 0, () => {
    // Reply first: the process goes away once everything has stopped.
    setImmediate(() => exit());
    return '';
  });
  ctl.register('version', '', 0, 0, () => versionText(PROG));
  registerVlogCommands(ctl, logger);
  // One registry for all: each component's names carry its own prefix (ovnts_northd_, ovnts_nb_ovsdb_...).
  const metrics = daemonMetricsScope(opts);
  const scoped = (extra: string): { metrics?: MetricsScope } => (metrics === undefined ? {} : { metrics: subScope(metrics, extra) });
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };
  try {
    // The control socket first, as the OVN daemons make it; it serves the commands of every component as each starts.
    await startControlSocket(run, ctl);
    stops.push(() => ctl.stop());
    const nbSock = join(opts.rundir, 'ovnnb_db.sock');
    const sbSock = join(opts.rundir, 'ovnsb_db.sock');
    for (const [name, file, schema, sock, port] of [
      ['nb', join(opts.dbdir, 'ovnnb_db.db'), SCHEMA_FILES.OVN_Northbound, nbSock, 6641],
      ['sb', join(opts.dbdir, 'ovnsb_db.db'), SCHEMA_FILES.OVN_Southbound, sbSock, 6642],
    ] as const) {
      const db = await openOrCreate(file, schema, log(`ovsdb-${name}`));
      const remotes = [`punix:${sock}`, ...(opts.listen === undefined ? [] : [`ptcp:${port}:${opts.listen}`])];
      const server = new OvsdbServer({ remotes, databases: [db], log: log(`ovsdb-${name}`), ...scoped(`${name}_`) });
      await server.start();
      run.removeOnExit(sock);
      stops.push(() => server.stop());
    }
    const northd = createNorthd({ nbRemote: `unix:${nbSock}`, sbRemote: `unix:${sbSock}`, log: log('northd'), ...scoped('') });
    await northd.start();
    stops.push(() => northd.stop());
    registerNorthdCommands(ctl, northd);
    if (opts.controller) {
      const clog = log('controller');
      const c = createController({ ovsRemote: opts.ovsRemote, log: clog, pipeline: createFlowPipeline(clog, scoped('').metrics) });
      await c.start();
      stops.push(() => c.stop(false));
      registerControllerCommands(ctl, c);
    }
    if (opts.ipam !== undefined) {
      const authenticator = opts.ipamUsers === undefined ? {} : { authenticator: createKeystoneAuthenticator({ users: opts.ipamUsers }) };
      const ipam = createIpamServer({ ...opts.ipam, nbRemotes: `unix:${nbSock}`, log: log('ipam'), ...scoped(''), ...authenticator });
      try {
        await ipam.start();
        stops.push(() => ipam.stop());
        opts.ipam = { host: opts.ipam.host, port: ipam.port };
      } catch (e) {
        await ipam.stop().catch(() => {});
        // Another `ovnts up` (or a Neutron) may hold the default port; only an asked-for address must work.
        if (opts.ipamExplicit || (e as { code?: string }).code !== 'EADDRINUSE')
          throw new Error(`--ipam=${opts.ipam.host}:${opts.ipam.port}: ${(e as Error).message}`);
        log('ipam')(`${opts.ipam.host}:${opts.ipam.port} is in use; the Neutron API is not served (give --ipam=ADDR:PORT or --no-ipam)`);
        opts.ipam = undefined;
      }
    }
    if (opts.ui !== undefined) {
      const page = createUiServer({ ...opts.ui, nbRemote: `unix:${nbSock}`, sbRemote: `unix:${sbSock}`, log: log('ui') });
      try {
        await page.start();
        stops.push(() => page.stop());
        opts.ui = { host: opts.ui.host, port: page.port };
      } catch (e) {
        await page.stop().catch(() => {});
        // As for the IPAM: the default port may be someone else's; only an asked-for address must work.
        if (opts.uiExplicit || (e as { code?: string }).code !== 'EADDRINUSE')
          throw new Error(`--ui=${opts.ui.host}:${opts.ui.port}: ${(e as Error).message}`);
        log('ui')(`${opts.ui.host}:${opts.ui.port} is in use; the topology page is not served (give --ui=ADDR:PORT or --no-ui)`);
        opts.ui = undefined;
      }
    }
    stops.push(await serveDaemonMetrics(opts, metrics, log('up')));
  } catch (e) {
    await stopAll();
    return run.fail(e);
  }
  log('up')(
    `running: NB unix:${join(opts.rundir, 'ovnnb_db.sock')}, SB unix:${join(opts.rundir, 'ovnsb_db.sock')}${opts.listen === undefined ? '' : `, NB tcp:${opts.listen}:6641, SB tcp:${opts.listen}:6642`}${opts.controller ? `, controller on ${opts.ovsRemote}` : ''}${opts.ipam === undefined ? '' : `, Neutron API http://${opts.ipam.host}:${opts.ipam.port}/`}${opts.ui === undefined ? '' : `, topology page http://${opts.ui.host}:${opts.ui.port}/`}`,
  );
  await notifyReady(logger, opts.pidfile);
  const life = runUntilStopped({
    pidfile: opts.pidfile,
    onSignal: undefined,
    run,
    stop: async () => {
      await stopAll();
      await logger.close();
    },
  });
  exit = () => void life.exit(undefined);
  return life.done;
}
