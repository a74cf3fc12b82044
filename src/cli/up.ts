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
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HostedDatabase } from '../ovsdb/hosted-database.js';
import { OvsdbServer } from '../ovsdb/server.js';
import { DatabaseLog } from '../ovsdb/storage.js';
import { loadSchemaJson, SCHEMA_FILES } from '../ovsdb/schema-files.js';
import { createNorthd } from '../northd/northd.js';
import { createController, ovsRunDir } from '../controller/controller.js';
import { loadPipeline } from './controller.js';
import {
  createDaemonLogger,
  defaultDaemonOptions,
  detach,
  notifyReady,
  parseDaemonOption,
  runUntilStopped,
  shouldDetach,
  writePidfile,
  type DaemonOptions,
} from './daemon.js';
import { parseCommandLine } from './command-line.js';
import { createIpamServer } from '../ipam/server.js';
import { parseListen } from './ipam.js';

const PROG = 'ovnts up';

interface Options extends DaemonOptions {
  rundir: string;
  dbdir: string;
  ovsRemote: string;
  controller: boolean;
  /** Where the Neutron API listens; undefined with --no-ipam. */
  ipam: { host: string; port: number } | undefined;
  /** --ipam was given: failing to listen there is an error (the default address is best effort). */
  ipamExplicit: boolean;
}

const USAGE = `usage: ovnts up [OPTIONS]
Runs the OVN databases, northd and the controller of this host in one process.
  --rundir=DIR        sockets (default: $OVN_RUNDIR or /var/run/ovn)
  --dbdir=DIR         database files ovnnb_db.db, ovnsb_db.db (default: $OVN_DBDIR or /var/lib/ovn)
  --ovs-db=REMOTE     this host's Open vSwitch database (default: unix:$OVS_RUNDIR/db.sock)
  --no-controller     databases and northd only (a central node)
  --ipam=ADDR:PORT    serve the Neutron v2.0 API (ovnts ipam, noauth) here (default: 127.0.0.1:9696)
  --no-ipam           no Neutron API
  --pidfile[=FILE]    write the process id to FILE once everything runs
  --log-file[=FILE]   append log messages to FILE instead of stderr
  --detach            run in the background once everything runs
`;

function parseArgs(args: readonly string[]): Options | string {
  const o: Options = {
    rundir: process.env['OVN_RUNDIR'] ?? '/var/run/ovn',
    dbdir: process.env['OVN_DBDIR'] ?? '/var/lib/ovn',
    ovsRemote: `unix:${ovsRunDir()}/db.sock`,
    controller: true,
    ipam: { host: '127.0.0.1', port: 9696 },
    ipamExplicit: false,
    ...defaultDaemonOptions(),
  };
  const defaults = { program: 'ovnts-up', rundir: process.env['OVN_RUNDIR'] ?? '.', logdir: process.env['OVN_LOGDIR'] ?? '.' };
  for (const a of args) {
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    const value = eq < 0 ? undefined : a.slice(eq + 1);
    const need = (): string => {
      if (value === undefined || value === '') throw new Error(`option '${name}' requires an argument`);
      return value;
    };
    // No control socket (yet): --unixctl is not one of its options.
    if (name !== '--unixctl' && parseDaemonOption(o, name, value, need, defaults)) continue;
    switch (name) {
      case '--rundir':
        o.rundir = resolve(need());
        break;
      case '--dbdir':
        o.dbdir = resolve(need());
        break;
      case '--ovs-db':
        o.ovsRemote = need();
        break;
      case '--no-controller':
        o.controller = false;
        break;
      case '--ipam':
        o.ipam = parseListen(need());
        o.ipamExplicit = true;
        break;
      case '--no-ipam':
        o.ipam = undefined;
        break;
      case '-h':
      case '--help':
        return USAGE;
      default:
        throw new Error(`unrecognized option '${a}'`);
    }
  }
  return o;
}

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
  const o = parseCommandLine(PROG, args, parseArgs);
  if (typeof o === 'number') return o;
  const opts = o;
  if (shouldDetach(opts)) return detach('up', args);
  const logger = createDaemonLogger({ file: opts.logFile, layout: 'brief' });
  const log = logger.module;
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };
  try {
    mkdirSync(opts.rundir, { recursive: true });
    mkdirSync(opts.dbdir, { recursive: true });
    const nbSock = join(opts.rundir, 'ovnnb_db.sock');
    const sbSock = join(opts.rundir, 'ovnsb_db.sock');
    for (const [name, file, schema, sock] of [
      ['nb', join(opts.dbdir, 'ovnnb_db.db'), SCHEMA_FILES.OVN_Northbound, nbSock],
      ['sb', join(opts.dbdir, 'ovnsb_db.db'), SCHEMA_FILES.OVN_Southbound, sbSock],
    ] as const) {
      const db = await openOrCreate(file, schema, log(`ovsdb-${name}`));
      const server = new OvsdbServer({ remotes: [`punix:${sock}`], databases: [db], log: log(`ovsdb-${name}`) });
      await server.start();
      stops.push(() => server.stop());
    }
    const northd = createNorthd({ nbRemote: `unix:${nbSock}`, sbRemote: `unix:${sbSock}`, log: log('northd') });
    await northd.start();
    stops.push(() => northd.stop());
    if (opts.controller) {
      const clog = log('controller');
      const pipeline = await loadPipeline(clog);
      const c = createController({ ovsRemote: opts.ovsRemote, log: clog, ...(pipeline === undefined ? {} : { pipeline }) });
      await c.start();
      stops.push(() => c.stop(false));
    }
    if (opts.ipam !== undefined) {
      const ipam = createIpamServer({ ...opts.ipam, nbRemotes: `unix:${nbSock}`, log: log('ipam') });
      try {
        await ipam.start();
        stops.push(() => ipam.stop());
        opts.ipam = { host: opts.ipam.host, port: ipam.port };
      } catch (e) {
        await ipam.stop().catch(() => {});
        // Another `ovnts up` (or a Neutron) may hold the default port; only an asked-for address must work.
        if (opts.ipamExplicit || (e as { code?: string }).code !== 'EADDRINUSE') throw new Error(`--ipam=${opts.ipam.host}:${opts.ipam.port}: ${(e as Error).message}`);
        log('ipam')(`${opts.ipam.host}:${opts.ipam.port} is in use; the Neutron API is not served (give --ipam=ADDR:PORT or --no-ipam)`);
        opts.ipam = undefined;
      }
    }
  } catch (e) {
    process.stderr.write(`${PROG}: ${(e as Error).message}\n`);
    await stopAll();
    return 1;
  }
  writePidfile(opts.pidfile);
  log('up')(`running: NB unix:${join(opts.rundir, 'ovnnb_db.sock')}, SB unix:${join(opts.rundir, 'ovnsb_db.sock')}${opts.controller ? `, controller on ${opts.ovsRemote}` : ''}${opts.ipam === undefined ? '' : `, Neutron API http://${opts.ipam.host}:${opts.ipam.port}/`}`);
  notifyReady(logger);
  return runUntilStopped({ pidfile: opts.pidfile, onSignal: undefined, stop: stopAll }).done;
}
