/**
 * SSL settings read from a database (ovsdb-server(1): `--private-key`,
 * `--certificate`, `--ca-cert`, `--ssl-protocols`, `--ssl-ciphers` given as
 * `db:DB,TABLE,COLUMN`), as OVN runs
 * its NB and SB servers with the `SSL` table that `ovn-nbctl set-ssl` fills.
 * The column holds a file name (or the protocol list, the cipher string); the first non-empty one in the table is the
 * setting. After every commit the settings are read again and, when they
 * changed, the `pssl:` listeners take them for their next connections.
 */
import type { OvsdbServer } from './server.js';
import type { SslOptions } from './remote.js';
import { checkDbRemote, parseDbRemote, resolveDbStrings, type DbColumnRef } from './db-remotes.js';

/** The SSL settings that may be read from a database. */
const DB_SETTINGS = ['privateKey', 'certificate', 'caCert', 'protocols', 'ciphers'] as const;
type DbSetting = (typeof DB_SETTINGS)[number];

/** Whether any of the settings is a `db:` reference. */
export function hasDbSsl(ssl: SslOptions): boolean {
  return DB_SETTINGS.some((k) => ssl[k]?.startsWith('db:') === true);
}

/** Follows the `db:` settings of `ssl`; the others are used as given. */
export class DbSsl {
  private readonly refs = new Map<DbSetting, DbColumnRef>();
  private last = '';
  private readonly stopWatching: () => void;

  /** Checks every reference against the served schemas; throws in ovsdb-server's words. */
  constructor(
    private readonly server: OvsdbServer,
    private readonly ssl: SslOptions,
  ) {
    for (const k of DB_SETTINGS) {
      const spec = ssl[k];
      if (spec === undefined || !spec.startsWith('db:')) continue;
      const ref = parseDbRemote(spec);
      if (ref === undefined) throw new Error(`"${spec}": invalid syntax`);
      checkDbRemote(server, spec, ref);
      const type = server.database(ref.db)?.db.tables.get(ref.table)?.schema.columns.get(ref.column)?.type;
      if (type === undefined || type.key.type !== 'string' || type.value !== undefined)
        throw new Error(`"${spec}": table "${ref.table}" column "${ref.column}" is not string or set of strings`);
      this.refs.set(k, ref);
    }
    this.last = JSON.stringify(this.current());
    this.stopWatching = server.onCommit(() => this.follow());
  }

  /** The settings as the databases hold them now (a setting with no value is left out). */
  current(): SslOptions {
    const out: SslOptions = { ...this.ssl };
    for (const [k, ref] of this.refs) {
      const v = resolveDbStrings(this.server, ref).find((s) => s !== '');
      if (v === undefined) delete out[k];
      else out[k] = v;
    }
    return out;
  }

  private follow(): void {
    const now = JSON.stringify(this.current());
    if (now === this.last) return;
    this.last = now;
    this.server.reloadSsl();
  }

  stop(): void {
    this.stopWatching();
  }
}
