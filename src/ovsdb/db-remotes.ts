/**
 * Remotes read from a database (ovsdb-server(1) `--remote=db:DB,TABLE,COLUMN`):
 * COLUMN holds remote strings, or references to rows whose `target` column
 * does (OVN's `NB_Global.connections` → `Connection.target`). The served
 * remotes follow the database: every commit re-reads them, listeners for new
 * targets start and those for targets gone stop.
 *
 * SSL settings read the same way (`--private-key=db:...`) are for the TLS
 * remotes; `resolveDbStrings` is the hook they use.
 */
import type { OvsdbServer } from './server.js';
import type { Datum } from './datum.js';

export interface DbColumnRef {
  readonly db: string;
  readonly table: string;
  readonly column: string;
}

/** Parses `db:DB,TABLE,COLUMN`; undefined for any other remote. */
export function parseDbRemote(spec: string): DbColumnRef | undefined {
  if (!spec.startsWith('db:')) return undefined;
  const parts = spec.slice(3).split(',');
  if (parts.length !== 3 || parts.some((p) => p === '')) return undefined;
  const [db, table, column] = parts as [string, string, string];
  return { db, table, column };
}

/** Checks a db: reference against the served schemas; the error text is ovsdb-server's. */
export function checkDbRemote(server: OvsdbServer, spec: string, ref: DbColumnRef): void {
  const d = server.database(ref.db);
  if (d === undefined) throw new Error(`"${spec}": no database named ${ref.db}`);
  const t = d.db.tables.get(ref.table);
  if (t === undefined) throw new Error(`"${spec}": no table named ${ref.table}`);
  if (!t.schema.columns.has(ref.column)) throw new Error(`"${spec}": table "${ref.table}" has no column "${ref.column}"`);
}

/**
 * The strings a db: reference names now: string values of the column, or the
 * `target` (for remotes) of the rows it references.
 */
export function resolveDbStrings(server: OvsdbServer, ref: DbColumnRef, field = 'target'): string[] {
  const d = server.database(ref.db);
  const t = d?.db.tables.get(ref.table);
  const col = t?.schema.columns.get(ref.column);
  if (d === undefined || t === undefined || col === undefined) return [];
  const out: string[] = [];
  for (const row of t.rows.values()) {
    const v = row.cols[ref.column] as Datum;
    const base = col.type.value?.type === 'string' ? col.type.value : col.type.key;
    const atoms = col.type.value !== undefined ? (v.values ?? []) : v.keys;
    for (const a of atoms) {
      if (base.type === 'string') out.push(a as string);
      else if (base.type === 'uuid' && base.refTable !== undefined) {
        const target = d.db.getRow(a as string)?.cols[field];
        if (target !== undefined) for (const s of target.keys) if (typeof s === 'string') out.push(s);
      }
    }
  }
  return out;
}

/** Keeps the server's listeners in step with the remotes its db: references name. */
export class DbRemotes {
  private readonly specs = new Map<string, DbColumnRef>();
  /** Remotes started because a database named them. */
  private readonly started = new Set<string>();
  private readonly stopWatching: () => void;
  private syncing: Promise<void> = Promise.resolve();

  constructor(
    private readonly server: OvsdbServer,
    private readonly log: (msg: string) => void,
  ) {
    this.stopWatching = server.onCommit(() => void this.sync());
  }

  add(spec: string, ref: DbColumnRef): void {
    this.specs.set(spec, ref);
    void this.sync();
  }

  remove(spec: string): void {
    this.specs.delete(spec);
    void this.sync();
  }

  /** Resolves once listeners match the databases as they are now. */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(() => this.reconcile());
    return this.syncing;
  }

  private async reconcile(): Promise<void> {
    const wanted = new Set<string>();
    for (const ref of this.specs.values()) for (const r of resolveDbStrings(this.server, ref)) wanted.add(r);
    for (const r of [...this.started]) {
      if (wanted.has(r)) continue;
      this.started.delete(r);
      this.server.removeRemote(r);
    }
    for (const r of wanted) {
      if (this.started.has(r) || this.server.remotes.includes(r)) continue;
      if (!r.startsWith('p')) {
        this.log(`${r}: active remotes from the database are not supported; ignored`);
        continue;
      }
      try {
        await this.server.addRemote(r);
        this.started.add(r);
      } catch (e) {
        this.log(`${r}: ${(e as Error).message}`);
      }
    }
  }

  stop(): void {
    this.stopWatching();
  }
}
