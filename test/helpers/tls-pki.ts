/**
 * Certificates and SSL-serving OVSDB servers for the TLS tests: a CA made
 * with the openssl CLI and keys it signs, and a real or ovnts ovsdb-server
 * on new NB and SB files listening on `pssl:PORT:127.0.0.1` and a unix socket.
 */
import { join } from 'node:path';
import { run, runOk, spawnDaemon, tmpDir, waitFor, type Daemon } from './proc.js';
import { NB_SCHEMA, SB_SCHEMA, OVNTS, waitForSocket } from './ovsdb-servers.js';
import { freePort } from './neutron-server.js';

/** A directory of certificates: `file('ca.pem')`, `file('server.key')`... */
export class Pki {
  readonly dir = tmpDir('ovnts-tls').path;

  file(name: string): string {
    return join(this.dir, name);
  }

  /** A self-signed CA `ca`, and a key plus certificate signed by it for each name. */
  async make(ca: string, names: readonly string[]): Promise<void> {
    const f = (n: string): string => this.file(n);
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    await runOk('openssl', ['req', '-x509', ...ec, '-keyout', f(`${ca}.key`), '-out', f(`${ca}.pem`), '-subj', `/CN=${ca}`, '-days', '2'], {
      check: true,
    });
    for (const n of names) {
      await runOk('openssl', ['req', ...ec, '-keyout', f(`${n}.key`), '-out', f(`${n}.csr`), '-subj', `/CN=${n}`], { check: true });
      const sign = ['x509', '-req', '-in', f(`${n}.csr`), '-CA', f(`${ca}.pem`), '-CAkey', f(`${ca}.key`), '-CAcreateserial'];
      await runOk('openssl', [...sign, '-out', f(`${n}.pem`), '-days', '2'], { check: true });
    }
  }

  /** `--private-key`, `--certificate` and `--ca-cert` for `key`'s files trusting `ca`, as the real tools and ovnts take them. */
  args(key: string, ca: string): string[] {
    return [`--private-key=${this.file(`${key}.key`)}`, `--certificate=${this.file(`${key}.pem`)}`, `--ca-cert=${this.file(`${ca}.pem`)}`];
  }
}

export interface SslDb {
  readonly daemon: Daemon;
  /** `ssl:127.0.0.1:PORT`. */
  readonly ssl: string;
  readonly port: number;
  /** `unix:PATH`. */
  readonly unix: string;
  /** The server's log file. */
  readonly logFile: string;
  /** Its control socket. */
  readonly ctl: string;
}

/**
 * A server (real or ovnts) on new NB and SB files, listening on
 * pssl:PORT:127.0.0.1 with `server`'s key trusting `ca`, and on a unix
 * socket; `extra` goes on its command line.
 */
export async function startSslDb(pki: Pki, kind: 'real' | 'ovnts', extra: readonly string[] = []): Promise<SslDb> {
  const d = tmpDir(`ovnts-tls-${kind}`).path;
  const files = [join(d, 'nb.db'), join(d, 'sb.db')];
  for (const [i, schema] of [NB_SCHEMA, SB_SCHEMA].entries()) {
    if (kind === 'real') await runOk('ovsdb-tool', ['create', files[i] as string, schema], { check: true });
    else await runOk(OVNTS, ['ovsdb-tool', 'create', files[i] as string, schema], { check: true });
  }
  const port = await freePort();
  const sock = join(d, 'db.sock');
  const logFile = join(d, 'server.log');
  const args = [
    `--remote=pssl:${port}:127.0.0.1`,
    `--remote=punix:${sock}`,
    ...pki.args('server', 'ca'),
    ...extra,
    `--unixctl=${join(d, 'ctl')}`,
    `--log-file=${logFile}`,
    '--no-chdir',
    ...files,
  ];
  const daemon = await spawnDaemon(kind === 'real' ? 'ovsdb-server' : OVNTS, kind === 'real' ? args : ['ovsdb-server', ...args], {
    name: `${kind}-ovsdb-server`,
  });
  await waitForSocket(sock, daemon.process);
  // The SSL port is bound before the unix one is, in both servers; check anyway.
  await waitFor(async () => (await run('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`])).code === 0, { what: 'pssl port' });
  return { daemon, ssl: `ssl:127.0.0.1:${port}`, port, unix: `unix:${sock}`, logFile, ctl: join(d, 'ctl') };
}

/** An NB server whose SSL settings and remotes live in the database, as OVN runs its NB. */
export interface DbSslNb {
  readonly daemon: Daemon;
  /** `ovn-nbctl --db=unix:SOCK ARGS...` (the real one). */
  nbctl(...args: string[]): Promise<string>;
}

/**
 * A server (real or ovnts) on a new NB file that takes its remotes from
 * NB_Global:connections and its key, certificate and CA from the SSL table
 * (`--private-key=db:OVN_Northbound,SSL,private_key`...), plus a unix socket
 * for ovn-nbctl; `extra` goes on its command line. The caller stops it.
 */
export async function startDbSslNb(kind: 'real' | 'ovnts', name: string, extra: readonly string[] = []): Promise<DbSslNb> {
  const d = tmpDir(`ovnts-tls-${name}-${kind}`).path;
  const db = join(d, 'nb.db');
  if (kind === 'real') await runOk('ovsdb-tool', ['create', db, NB_SCHEMA], { check: true });
  else await runOk(OVNTS, ['ovsdb-tool', 'create', db, NB_SCHEMA], { check: true });
  const sock = join(d, 'db.sock');
  const args = [
    `--remote=punix:${sock}`,
    '--remote=db:OVN_Northbound,NB_Global,connections',
    '--private-key=db:OVN_Northbound,SSL,private_key',
    '--certificate=db:OVN_Northbound,SSL,certificate',
    '--ca-cert=db:OVN_Northbound,SSL,ca_cert',
    ...extra,
    `--unixctl=${join(d, 'ctl')}`,
    '--no-chdir',
    db,
  ];
  const daemon = await spawnDaemon(kind === 'real' ? 'ovsdb-server' : OVNTS, kind === 'real' ? args : ['ovsdb-server', ...args], {
    name: `${kind}-ovsdb-server-${name}`,
  });
  try {
    await waitForSocket(sock, daemon.process);
  } catch (e) {
    await daemon.stop();
    throw e;
  }
  return { daemon, nbctl: (...a) => runOk('ovn-nbctl', [`--db=unix:${sock}`, ...a], { check: true }) };
}

/** The Logical_Switch names in the NB at `unix`, sorted (read with the real ovsdb-client). */
export async function switchNames(unix: string): Promise<string[]> {
  const q = JSON.stringify(['OVN_Northbound', { op: 'select', table: 'Logical_Switch', where: [], columns: ['name'] }]);
  const out = JSON.parse(await runOk('ovsdb-client', ['transact', unix, q], { check: true })) as Array<{ rows: Array<{ name: string }> }>;
  return (out[0]?.rows ?? []).map((r) => r.name).sort();
}
