/**
 * A database as a server hosts it: the in-memory state, its on-disk log, and
 * the ordering rule that every reply and notification about a commit goes out
 * only after that commit is durable as ovsdb-server defines it (written to the
 * file, and fdatasync'ed too when the transaction asked for a durable commit),
 * in commit order.
 */
import { Database, rowFromJson, type RowChange, type Row, rowToJson, type Table } from './database.js';
import { newUuid, type Datum } from './datum.js';
import { applyDatumDiff } from './datum-diff.js';
import { DatabaseLog, type LogRecord } from './storage.js';
import { parseSchema, type DatabaseSchema } from './schema.js';
import { OvsdbError, OVSDB_ERROR } from './error.js';
import { lockDatabase, type DatabaseLock } from './db-lock.js';
import { stringifyJson } from '../lib/json-int.js';

export interface HostedDatabaseOptions {
  /** Where the lockfile module's warning goes when the file is locked by another process. */
  lockWarn?: (msg: string) => void;
  /** Compact the log when it exceeds this many bytes... Default 10 MiB. */
  compactMinBytes?: number;
  /** ...and has grown this many times since the last compaction. Default 4. */
  compactGrowth?: number;
  log?: (msg: string) => void;
  /** Called with the file size each fdatasync made durable (see DatabaseLogOpenOptions). */
  onSync?: (syncedBytes: number) => void;
}

export interface Commit {
  readonly changes: readonly RowChange[];
}

/** Called once a commit is written (and synced, if durable), with null or with the error that lost it. */
export type CommitDone = (err: OvsdbError | null) => void;

/**
 * One step of the durability order: a commit (its `fn` is null until it is
 * written), or a callback to run once everything before it is durable.
 */
interface Step {
  written: boolean;
  fn: (() => void) | null;
}

export class HostedDatabase {
  /** Replaced only by a schema conversion. */
  db: Database;
  private readonly compactMinBytes: number;
  private readonly compactGrowth: number;
  private sizeAfterCompaction: number;
  /**
   * The durability order: commits in the order they were applied, with the
   * callbacks queued behind each. Steps leave from the head only, so replies
   * and notifications keep commit order however appends are grouped into
   * writes and syncs. Callbacks in an array rather than a promise chain: a
   * commit costs no promise and no microtask.
   */
  private readonly steps: Step[] = [];
  private head = 0;
  private compacting = false;
  private readonly logMsg: (msg: string) => void;
  private lock: DatabaseLock | undefined;

  private constructor(
    db: Database,
    readonly storage: DatabaseLog | null,
    opts: HostedDatabaseOptions,
  ) {
    this.db = db;
    this.compactMinBytes = opts.compactMinBytes ?? 10 * 1024 * 1024;
    this.compactGrowth = opts.compactGrowth ?? 4;
    this.sizeAfterCompaction = storage?.size ?? 0;
    this.logMsg = opts.log ?? (() => {});
  }

  /** A database that lives only in memory (tests, the _Server database). */
  static inMemory(schema: DatabaseSchema, opts: HostedDatabaseOptions = {}): HostedDatabase {
    return new HostedDatabase(new Database(schema), null, opts);
  }

  /** Opens a standalone database file, replaying its transactions. */
  static async open(path: string, opts: HostedDatabaseOptions = {}): Promise<HostedDatabase> {
    const logOpts = { ...(opts.log === undefined ? {} : { log: opts.log }), ...(opts.onSync === undefined ? {} : { onSync: opts.onSync }) };
    // Two servers must never write one file: the lock comes first.
    const lock = lockDatabase(path, opts.lockWarn);
    try {
      const { log, schema, records } = await DatabaseLog.open(path, logOpts);
      const db = new Database(parseSchema(schema));
      for (const rec of records) replayRecord(db, rec);
      const hosted = new HostedDatabase(db, log, opts);
      hosted.lock = lock;
      return hosted;
    } catch (e) {
      lock.release();
      throw e;
    }
  }

  get name(): string {
    return this.db.name;
  }

  /**
   * Applies a validated commit in memory at once (later transactions see it)
   * and returns a promise that resolves when it is written to the database
   * file — and, for a `durable` commit, when it is also on stable storage.
   */
  commit(changes: readonly RowChange[], comment: string | undefined, durable = false): Promise<Commit> {
    return new Promise((resolve, reject) =>
      this.commitThen(changes, comment, durable, (e) => (e === null ? resolve({ changes }) : reject(e))),
    );
  }

  /**
   * {@link commit} with a callback (the server's way: no promise per
   * commit). `done` runs when the commit is durable, before any callback
   * that {@link afterDurable} queues after this call; in memory, at once.
   */
  commitThen(changes: readonly RowChange[], comment: string | undefined, durable: boolean, done: CommitDone): void {
    this.db.apply(changes);
    if (this.storage === null) {
      done(null);
      return;
    }
    const step: Step = { written: false, fn: null };
    this.steps.push(step);
    this.storage.appendJsonThen(commitRecordText(changes, comment), durable, (e) => {
      if (e !== null) this.logMsg(`${this.name}: writing the database file failed: ${String(e)}`);
      step.written = true;
      step.fn = () => done(e === null ? null : new OvsdbError(OVSDB_ERROR.IO_ERROR, `writing ${this.name}: ${String(e)}`));
      this.advance();
    });
  }

  /** Runs the steps at the head that are ready: written commits and the callbacks behind them. */
  private advance(): void {
    let wrote = false;
    while (this.head < this.steps.length) {
      const step = this.steps[this.head] as Step;
      if (step.fn === null) break;
      this.head++;
      wrote ||= step.written;
      step.fn();
    }
    if (this.head === this.steps.length) {
      this.steps.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.steps.length) {
      this.steps.splice(0, this.head);
      this.head = 0;
    }
    if (wrote) this.maybeCompact();
  }

  /** Whether everything committed so far is durable (nothing is waiting for the file). */
  get durableNow(): boolean {
    return this.head === this.steps.length;
  }

  /** Runs `fn` once everything committed so far is durable, in commit order. */
  afterDurable(fn: () => void): void {
    if (this.head === this.steps.length) {
      fn();
      return;
    }
    this.steps.push({ written: false, fn });
  }

  /** `value` at once when nothing is in flight, else a promise for it after durability. */
  whenDurable<T>(value: T): T | Promise<T> {
    if (this.head === this.steps.length) return value;
    return new Promise((resolve) => this.afterDurable(() => resolve(value)));
  }

  /** Resolves once everything committed so far is durable. */
  private settled(): Promise<void> {
    return new Promise((resolve) => this.afterDurable(resolve));
  }

  private maybeCompact(): void {
    const s = this.storage;
    if (s === null || this.compacting) return;
    if (s.size < this.compactMinBytes || s.size < this.sizeAfterCompaction * this.compactGrowth) return;
    this.compact().catch(() => undefined);
  }

  /** Rewrites the log as one snapshot now (ovsdb-server/compact); a no-op in memory or while one runs. */
  async compact(): Promise<void> {
    const s = this.storage;
    if (s === null || this.compacting) return;
    this.compacting = true;
    // Every commit is applied in memory when it is appended, so a snapshot
    // taken now covers exactly the records appended so far, written or not;
    // the log replaces all of them with it and keeps later ones after it.
    const snapshot = { ...this.db.snapshot(), _date: Date.now(), _comment: 'compacting database online' };
    try {
      await s.compact(this.db.schema.json, snapshot);
      this.sizeAfterCompaction = s.size;
      this.logMsg(`${this.name}: compacted database to ${s.size} bytes`);
    } catch (e) {
      this.logMsg(`${this.name}: compaction failed: ${String(e)}`);
      throw e;
    } finally {
      this.compacting = false;
    }
  }

  /** Serves `db` (the converted database) from now on and rewrites the file with its schema. */
  async replace(db: Database): Promise<void> {
    await this.settled();
    this.db = db;
    const snapshot = { ...db.snapshot(), _date: Date.now(), _comment: 'converted online' };
    await this.storage?.compact(db.schema.json, snapshot);
  }

  async close(): Promise<void> {
    await this.settled();
    await this.storage?.close();
    this.lock?.release();
    this.lock = undefined;
  }
}

/**
 * The storage record for one commit, as JSON text: inserted rows with their
 * non-default columns, modified rows with the changed columns, deleted rows
 * as null. Written directly: an object keyed by row UUIDs would make V8
 * intern every UUID as a property name, the larger part of building it.
 */
export function commitRecordText(changes: readonly RowChange[], comment: string | undefined): string {
  const byTable = new Map<string, string[]>();
  for (const ch of changes) {
    let rows = byTable.get(ch.table.name);
    if (rows === undefined) byTable.set(ch.table.name, (rows = []));
    let row: string;
    if (ch.new === null) row = 'null';
    else if (ch.old === null) row = stringifyJson(rowToJson(ch.table, ch.new.cols, undefined, true));
    else row = stringifyJson(rowToJson(ch.table, ch.new.cols, changedColumns(ch.table, ch.old, ch.new)));
    // A UUID is hex digits and dashes: nothing to escape.
    rows.push(`"${ch.uuid}":${row}`);
  }
  let out = '{';
  for (const [name, rows] of byTable) out += `${JSON.stringify(name)}:{${rows.join(',')}},`;
  out += `"_date":${Date.now()}`;
  if (comment !== undefined) out += `,"_comment":${JSON.stringify(comment)}`;
  return `${out}}`;
}

function changedColumns(table: Table, a: Row, b: Row): string[] {
  const out: string[] = [];
  for (const c of table.columns) if (a.cols[c.name] !== b.cols[c.name]) out.push(c.name);
  return out;
}

/** Applies one transaction record from a database file (full values or, with "_is_diff", diffs). */
export function replayRecord(db: Database, rec: LogRecord): void {
  const isDiff = rec['_is_diff'] === true;
  const changes: RowChange[] = [];
  for (const [tname, rows] of Object.entries(rec)) {
    if (tname.startsWith('_')) continue;
    const table = db.table(tname);
    if (typeof rows !== 'object' || rows === null) continue;
    for (const [uuid, rowJson] of Object.entries(rows as Record<string, unknown>)) {
      const old = table.rows.get(uuid) ?? null;
      if (rowJson === null) {
        if (old !== null) changes.push({ table, uuid, old, new: null });
        continue;
      }
      const json = rowJson as Record<string, unknown>;
      let cols: Record<string, Datum>;
      if (old === null) cols = rowFromJson(table, json, table.defaultCols());
      else if (!isDiff) cols = rowFromJson(table, json, { ...old.cols });
      else {
        const diff = rowFromJson(table, json, {});
        cols = { ...old.cols };
        for (const [name, d] of Object.entries(diff)) {
          const c = table.schema.columns.get(name);
          if (c !== undefined) cols[name] = applyDatumDiff(old.cols[name] as Datum, d, c.type);
        }
      }
      changes.push({ table, uuid, old, new: { uuid, version: newUuid(), cols } });
    }
  }
  db.apply(changes);
}
