/**
 * The OVSDB standalone database file ("log"), as ovsdb-server(1) and
 * ovsdb-tool(1) read and write it (ovsdb(5), "Database File Formats").
 *
 * The file is a sequence of records. Each record is a header line
 *
 *     OVSDB JSON <length> <sha1>\n
 *
 * followed by <length> bytes: one JSON value and a trailing "\n". Both the
 * length and the SHA-1 (40 lowercase hex digits) cover the JSON text *and* that
 * newline. Record 0 is the schema; every later record is one transaction
 * `{"<Table>": {"<uuid>": {col: json, ...} | null}, "_date": ms, "_comment": "...",
 * "_is_diff": true}`. ovsdb-server 3.1 writes `"_is_diff": true` records: a
 * modified row carries, per column, the diff between old and new value (see
 * datum-diff.ts); without `_is_diff` a column value is the full new value, and
 * the real server reads both. Compaction rewrites the file as the schema plus
 * one record holding every row as an insert, then goes on appending.
 *
 * Clustered files (magic `OVSDB CLUSTER`) are Raft logs and are not handled here.
 */
import { createHash, hash } from 'node:crypto';
import { open, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { ftruncateSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { OvsdbError, OVSDB_ERROR } from './error.js';
import { parseJson, stringifyJson } from '../lib/json-int.js';
import { errnoText } from '../lib/errno-text.js';

/** One parsed JSON record of a database file: the schema or a transaction. */
export interface LogRecord {
  [key: string]: unknown;
}

/** The header magic of a standalone database file. */
export const STANDALONE_MAGIC = 'OVSDB JSON';
/** The header magic of a clustered (Raft) database file. */
export const CLUSTERED_MAGIC = 'OVSDB CLUSTER';
/** A header line is at most this long (magic, 20-digit length, 40-digit SHA-1). */
export const MAX_HEADER_LENGTH = 128;

const HEADER_RE = /^OVSDB JSON (\d{1,15}) ([0-9a-fA-F]{40})$/;
const NEWLINE = 0x0a;

function sha1Hex(bytes: Uint8Array | string): string {
  // The one-shot hash (Node 20.12+) costs less than half of a Hash object per record.
  return typeof hash === 'function' ? hash('sha1', bytes, 'hex') : createHash('sha1').update(bytes).digest('hex');
}

/** Header plus body of one record: the JSON text, a newline, and a header line that covers both. */
export function encodeRecord(json: unknown): Buffer {
  return Buffer.from(encodeRecordText(json), 'utf8');
}

/**
 * {@link encodeRecord} as a string (UTF-8 when written): the log writes
 * strings, which go to the file without a Buffer per record and a
 * concatenation per batch.
 */
export function encodeRecordText(json: unknown): string {
  const text = stringifyJson(json);
  if (text === undefined) throw new TypeError('record is not representable as JSON');
  return frameRecordText(text);
}

/** A record's JSON text with its header line and newline. */
function frameRecordText(text: string): string {
  const body = `${text}\n`;
  // The length counts bytes; JSON.stringify escapes lone surrogates, so the
  // text is well-formed and its UTF-8 form is what the hash and the file get.
  return `${STANDALONE_MAGIC} ${Buffer.byteLength(body, 'utf8')} ${sha1Hex(body)}\n${body}`;
}

/** What `decodeRecord` found at an offset. */
export type DecodeResult =
  /** One whole, valid record: its JSON and the offset just past it. */
  | { readonly kind: 'record'; readonly json: unknown; readonly end: number }
  /** The bytes end inside this record (a torn write); `message` says where. */
  | { readonly kind: 'need-more'; readonly message: string }
  /** The bytes here are not a valid record. */
  | { readonly kind: 'corrupt'; readonly message: string }
  /** A header of a clustered database file. */
  | { readonly kind: 'clustered'; readonly message: string };

/**
 * Decodes the record that starts at `offset` of `buf`. Checks the header,
 * then that the whole body is present, then its SHA-1, then its JSON; it never
 * allocates more than the bytes it was given.
 */
export function decodeRecord(buf: Uint8Array, offset: number): DecodeResult {
  const limit = Math.min(buf.length, offset + MAX_HEADER_LENGTH);
  let nl = -1;
  for (let i = offset; i < limit; i++) {
    if (buf[i] === NEWLINE) {
      nl = i;
      break;
    }
  }
  if (nl < 0) {
    const partial = Buffer.from(buf.subarray(offset, limit)).toString('latin1');
    if (limit === buf.length && (STANDALONE_MAGIC + ' ').startsWith(partial.slice(0, STANDALONE_MAGIC.length + 1))) {
      return { kind: 'need-more', message: `unexpected end of file at offset ${offset} in header line` };
    }
    return { kind: 'corrupt', message: `parse error at offset ${offset} in header line "${printable(partial)}"` };
  }
  const line = Buffer.from(buf.subarray(offset, nl)).toString('latin1');
  if (line.startsWith(CLUSTERED_MAGIC + ' ')) return { kind: 'clustered', message: `clustered database file at offset ${offset}` };
  const m = HEADER_RE.exec(line);
  if (m === null) return { kind: 'corrupt', message: `parse error at offset ${offset} in header line "${printable(line)}"` };
  const length = Number(m[1]);
  const want = (m[2] as string).toLowerCase();
  const start = nl + 1;
  if (buf.length - start < length) {
    return { kind: 'need-more', message: `error reading ${length} bytes starting at offset ${start} (End of file)` };
  }
  const body = buf.subarray(start, start + length);
  const got = sha1Hex(body);
  if (got !== want) {
    return { kind: 'corrupt', message: `${length} bytes starting at offset ${start} have SHA-1 hash ${got} but should have hash ${want}` };
  }
  let json: unknown;
  try {
    json = parseJson(Buffer.from(body).toString('utf8'));
  } catch (e) {
    return { kind: 'corrupt', message: `${length} bytes starting at offset ${start} are not valid JSON (${(e as Error).message})` };
  }
  return { kind: 'record', json, end: start + length };
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 40);
}

function isRecord(v: unknown): v is LogRecord {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Why scanning a whole file stopped early, if it did. */
interface ScanResult {
  readonly records: LogRecord[];
  /** Offset just past the last good record. */
  readonly goodEnd: number;
  /** Set when the bytes after goodEnd are a torn or corrupt tail. */
  readonly tail: string | undefined;
}

/**
 * Reads every record of a file image. A bad record with no good record after
 * it is a torn or corrupt tail (reported, to be truncated); a bad record
 * followed by a good one is corruption in the middle and an error.
 */
export function scanLog(buf: Uint8Array, path: string): ScanResult {
  checkMagic(buf, path);
  const records: LogRecord[] = [];
  let off = 0;
  while (off < buf.length) {
    const r = decodeRecord(buf, off);
    if (r.kind === 'record') {
      if (!isRecord(r.json)) {
        return badRecord(buf, path, records, off, `record at offset ${off} is not a JSON object`);
      }
      records.push(r.json);
      off = r.end;
      continue;
    }
    if (r.kind === 'clustered') {
      return badRecord(buf, path, records, off, r.message);
    }
    return badRecord(buf, path, records, off, r.message);
  }
  return { records, goodEnd: off, tail: undefined };
}

/** A file that does not start like a database file is not one, and is never truncated. */
function checkMagic(buf: Uint8Array, path: string): void {
  const start = Buffer.from(buf.subarray(0, CLUSTERED_MAGIC.length + 1)).toString('latin1');
  if (start.startsWith(CLUSTERED_MAGIC + ' ')) {
    throw new OvsdbError(
      OVSDB_ERROR.OVSDB_ERROR,
      `${path}: clustered database file; ovnts opens only standalone databases (convert it with "ovsdb-tool cluster-to-standalone")`,
    );
  }
  const n = Math.min(start.length, STANDALONE_MAGIC.length + 1);
  if (n === 0 || start.slice(0, n) !== (STANDALONE_MAGIC + ' ').slice(0, n)) {
    throw new OvsdbError(OVSDB_ERROR.OVSDB_ERROR, `${path}: unexpected file format`);
  }
}

/** The schema record of a database file, read without changing the file (for `db-name` and the like). */
export async function readSchemaRecord(path: string): Promise<LogRecord> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw ioError(path, 'open failed', e);
  }
  checkMagic(buf, path);
  const r = decodeRecord(buf, 0);
  if (r.kind === 'record' && isRecord(r.json)) return r.json;
  throw new OvsdbError(OVSDB_ERROR.SYNTAX_ERROR, `${path}: ${r.kind === 'record' ? 'schema record is not a JSON object' : r.message}`);
}

function badRecord(buf: Uint8Array, path: string, records: LogRecord[], off: number, message: string): ScanResult {
  const next = findGoodRecord(buf, off + 1);
  if (next >= 0) {
    throw new OvsdbError(
      OVSDB_ERROR.SYNTAX_ERROR,
      `${path}: ${message}, followed by a valid record at offset ${next}: the file is corrupt`,
    );
  }
  return { records, goodEnd: off, tail: message };
}

/** The offset of the first valid standalone record at or after `from`, or -1. */
function findGoodRecord(buf: Uint8Array, from: number): number {
  const magic = Buffer.from(STANDALONE_MAGIC + ' ', 'latin1');
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = b.indexOf(magic, from); i >= 0; i = b.indexOf(magic, i + 1)) {
    if (decodeRecord(b, i).kind === 'record') return i;
  }
  return -1;
}

/** Writes all of `buf` at `position`, looping over short writes. */
async function writeAll(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    if (bytesWritten <= 0) throw new Error('short write');
    done += bytesWritten;
  }
}

/** Writes all of `buf` at `position` synchronously, looping over short writes. */
function writeAllSync(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) {
    const n = writeSync(fd, buf, done, buf.length - done, position + done);
    if (n <= 0) throw new Error('short write');
    done += n;
  }
}

/** Writes `text` (UTF-8, `bytes` long) at `position` synchronously; returns `bytes`. */
function writeTextSync(fd: number, text: string, bytes: number, position: number): number {
  const n = writeSync(fd, text, position, 'utf8');
  // A short write is rare on a file; finish it from the encoded bytes.
  if (n < bytes) writeAllSync(fd, Buffer.from(text, 'utf8').subarray(n), position + n);
  return bytes;
}

/** Makes a rename or create in `dir` durable. */
async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

function ioError(path: string, what: string, e: unknown): OvsdbError {
  const err = e as NodeJS.ErrnoException;
  const reason = errnoText(err);
  return new OvsdbError(OVSDB_ERROR.IO_ERROR, `${path}: ${what} (${reason})`);
}

interface Pending {
  /** The encoded record (header and body). */
  readonly text: string;
  /** Its length in bytes. */
  readonly bytes: number;
  /** Done only once the record is fdatasync'ed, not just written. */
  readonly durable: boolean;
  readonly done: AppendDone;
}

/** Called once when an append is written (or synced, when durable), with null, or with the error that lost it. */
export type AppendDone = (err: Error | null) => void;

/** Counters for tests and monitoring. */
export interface LogStats {
  /** Records handed to append(). */
  readonly appends: number;
  /** write() batches issued for appends. */
  readonly writes: number;
  /** fdatasync() calls issued for durable appends. */
  readonly syncs: number;
  /** Completed compactions. */
  readonly compactions: number;
}

export interface DatabaseLogOpenOptions {
  /** Reports a torn or corrupt tail that was dropped. Default: ignore. */
  log?: (msg: string) => void;
  /**
   * Called after each fdatasync with the file size it made durable (for
   * tests that simulate a power cut, and for monitoring). Default: none.
   */
  onSync?: (syncedBytes: number) => void;
}

/**
 * An open standalone database file, written as ovsdb-server writes it: an
 * append resolves once its record is written to the file (it then survives
 * the death of the process, since the kernel holds it), and a durable append
 * once it is also fdatasync'ed. Durable appends are group-committed: one
 * fdatasync covers every record written before it started, and the durable
 * appends that arrive while it runs share the next one.
 */
export class DatabaseLog {
  private fh: FileHandle;
  private bytes: number;
  private records: number;
  /** Bytes of the current file known to be on stable storage. */
  private synced: number;
  private readonly pending: Pending[] = [];
  /** Written durable appends waiting for an fdatasync. */
  private readonly awaitingSync: Pending[] = [];
  /** A write of the pending appends is scheduled for the check phase of this loop turn. */
  private scheduled = false;
  private syncing: Promise<void> | null = null;
  private paused = false;
  private closed = false;
  /** For each compaction asked for and not finished: the records appended since it was asked for. */
  private readonly sinceCompaction = new Set<string[]>();
  private compactChain: Promise<void> = Promise.resolve();
  private broken: Error | null = null;
  private counters = { appends: 0, writes: 0, syncs: 0, compactions: 0 };
  private readonly onSync: ((syncedBytes: number) => void) | undefined;

  private constructor(
    readonly path: string,
    fh: FileHandle,
    size: number,
    recordCount: number,
    onSync: ((syncedBytes: number) => void) | undefined,
  ) {
    this.fh = fh;
    this.bytes = size;
    this.synced = size;
    this.records = recordCount;
    this.onSync = onSync;
  }

  /** Creates PATH holding only the schema record, like `ovsdb-tool create`; fails if PATH exists. */
  static async create(path: string, schemaJson: object, opts: DatabaseLogOpenOptions = {}): Promise<DatabaseLog> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'wx', 0o640);
    } catch (e) {
      throw ioError(path, 'create failed', e);
    }
    const head = encodeRecord(schemaJson);
    try {
      await writeAll(fh, head, 0);
      await fh.datasync();
      await syncDir(dirname(path));
    } catch (e) {
      await fh.close().catch(() => {});
      await unlink(path).catch(() => {});
      throw ioError(path, 'write failed', e);
    }
    return new DatabaseLog(path, fh, head.length, 1, opts.onSync);
  }

  /**
   * Opens PATH, verifying every record's header, length and SHA-1. A torn or
   * corrupt tail is reported through `opts.log` and truncated away; anything
   * else that is wrong is an error.
   */
  static async open(path: string, opts: DatabaseLogOpenOptions = {}): Promise<{ log: DatabaseLog; schema: object; records: LogRecord[] }> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r+');
    } catch (e) {
      throw ioError(path, 'open failed', e);
    }
    try {
      const buf = await readFile(fh);
      const scan = scanLog(buf, path);
      const [schema, ...records] = scan.records;
      if (schema === undefined) {
        const why = scan.tail ?? 'file is empty';
        throw new OvsdbError(OVSDB_ERROR.SYNTAX_ERROR, `${path}: no schema record (${why})`);
      }
      if (scan.tail !== undefined) {
        opts.log?.(`${path}: ${scan.tail}; truncating to ${scan.goodEnd} bytes`);
        await fh.truncate(scan.goodEnd);
      }
      // What was read may sit only in the page cache (written by a server
      // that was killed); make it durable before building on it.
      await fh.datasync();
      return { log: new DatabaseLog(path, fh, scan.goodEnd, scan.records.length, opts.onSync), schema, records };
    } catch (e) {
      await fh.close().catch(() => {});
      throw e;
    }
  }

  /** Bytes in the file. */
  get size(): number {
    return this.bytes;
  }

  /** Bytes of the file known to be on stable storage (a power cut keeps at least these). */
  get syncedSize(): number {
    return this.synced;
  }

  /** Records in the file, the schema record included. */
  get recordCount(): number {
    return this.records;
  }

  get stats(): LogStats {
    return { ...this.counters };
  }

  /**
   * Appends one record. Resolves once it is written to the file — and, with
   * `durable`, once it is also fdatasync'ed (or superseded by a compaction,
   * which is always synced).
   */
  append(record: LogRecord, durable = false): Promise<void> {
    return new Promise<void>((resolve, reject) => this.appendThen(record, durable, (e) => (e === null ? resolve() : reject(e))));
  }

  /**
   * {@link append} with a callback, which the server uses: no promise per
   * record. `done` is called once, never before this returns.
   */
  appendThen(record: LogRecord, durable: boolean, done: AppendDone): void {
    let json: string | undefined;
    try {
      json = stringifyJson(record);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      queueMicrotask(() => done(err));
      return;
    }
    this.appendJsonThen(json, durable, done);
  }

  /** {@link appendThen} of a record already serialised: `json` must be one JSON object's text. */
  appendJsonThen(json: string | undefined, durable: boolean, done: AppendDone): void {
    let err: Error | null = this.closed ? new OvsdbError(OVSDB_ERROR.IO_ERROR, `${this.path}: database file is closed`) : this.broken;
    let text = '';
    if (err === null) {
      if (json === undefined) err = new TypeError('record is not representable as JSON');
      else text = frameRecordText(json);
    }
    if (err !== null) {
      const e = err;
      queueMicrotask(() => done(e));
      return;
    }
    this.counters.appends++;
    for (const since of this.sinceCompaction) since.push(text);
    this.pending.push({ text, bytes: Buffer.byteLength(text, 'utf8'), durable, done });
    this.kick();
  }

  private kick(): void {
    if (this.scheduled || this.paused || this.pending.length === 0) return;
    this.scheduled = true;
    // The appends of this turn of the event loop (every request read from
    // the sockets) gather into one write, made in the check phase.
    setImmediate(() => {
      this.scheduled = false;
      this.writePending();
    });
  }

  /** Writes every pending append now (unless a compaction holds them). */
  private writePending(): void {
    while (!this.paused && this.pending.length > 0) this.writeBatch(this.pending.splice(0));
  }

  private writeBatch(batch: Pending[]): void {
    let text = '';
    let bytes = 0;
    for (const p of batch) {
      text += p.text;
      bytes += p.bytes;
    }
    try {
      this.counters.writes++;
      // A write only reaches the page cache, so it is done in place, like
      // ovsdb-server's; only fdatasync, the slow part, goes to the thread pool.
      writeTextSync(this.fh.fd, text, bytes, this.bytes);
    } catch (e) {
      const err = ioError(this.path, 'write failed', e);
      // Drop whatever part of the batch reached the file, so a later good
      // record never follows a torn one.
      try {
        ftruncateSync(this.fh.fd, this.bytes);
      } catch (te) {
        this.broken = ioError(this.path, 'truncate after failed write failed', te);
      }
      for (const p of batch) p.done(err);
      return;
    }
    this.bytes += bytes;
    this.records += batch.length;
    for (const p of batch) {
      if (p.durable) this.awaitingSync.push(p);
      else p.done(null);
    }
    this.startSync();
  }

  /** Starts an fdatasync for the written durable appends unless one is running; the next starts when it ends. */
  private startSync(): void {
    if (this.syncing !== null || this.paused || this.awaitingSync.length === 0) return;
    this.syncing = this.syncOnce().finally(() => {
      this.syncing = null;
      this.startSync();
    });
  }

  private async syncOnce(): Promise<void> {
    const group = this.awaitingSync.splice(0);
    const fh = this.fh;
    const upTo = this.bytes;
    this.counters.syncs++;
    try {
      await fh.datasync();
    } catch (e) {
      const err = ioError(this.path, 'fsync failed', e);
      for (const p of group) p.done(err);
      return;
    }
    // A compaction may have replaced the file meanwhile; it synced the new one itself.
    if (fh === this.fh && upTo > this.synced) {
      this.synced = upTo;
      this.onSync?.(upTo);
    }
    for (const p of group) p.done(null);
  }

  /**
   * Replaces the file with `schemaJson` plus `snapshot`, which must describe
   * every record appended before this call. Records appended while it runs go
   * to the old file as usual and are copied after the snapshot, so none is lost.
   * Writes PATH.tmp, fsyncs it, renames it over PATH and fsyncs the directory.
   */
  compact(schemaJson: object, snapshot: LogRecord): Promise<void> {
    const since: string[] = [];
    this.sinceCompaction.add(since);
    const run = this.compactChain.then(() => this.doCompact(schemaJson, snapshot, since)).finally(() => this.sinceCompaction.delete(since));
    this.compactChain = run.catch(() => {});
    return run;
  }

  private async doCompact(schemaJson: object, snapshot: LogRecord, since: string[]): Promise<void> {
    if (this.closed) throw new OvsdbError(OVSDB_ERROR.IO_ERROR, `${this.path}: database file is closed`);
    const tmpPath = `${this.path}.tmp`;
    let tmp: FileHandle | null = null;
    let renamed = false;
    try {
      const head = Buffer.concat([encodeRecord(schemaJson), encodeRecord(snapshot)]);
      try {
        tmp = await open(tmpPath, 'w', 0o640);
        await writeAll(tmp, head, 0);
        await tmp.datasync();
      } catch (e) {
        throw ioError(tmpPath, 'write failed', e);
      }
      // Stop the writer; whatever it has not written yet goes only to the new file.
      // (Writes are synchronous: none is ever half done here.)
      this.paused = true;
      while (this.syncing !== null) await this.syncing;
      // From here on, new appends wait in `pending` for the new file; the
      // ones pending now are either in `since` or covered by the snapshot.
      this.sinceCompaction.delete(since);
      const tail = Buffer.from(since.join(''), 'utf8');
      const waitingCount = this.pending.length;
      try {
        if (tail.length > 0) {
          await writeAll(tmp, tail, head.length);
          await tmp.datasync();
        }
        await rename(tmpPath, this.path);
      } catch (e) {
        throw ioError(tmpPath, 'write failed', e);
      }
      renamed = true;
      const old = this.fh;
      this.fh = tmp;
      tmp = null;
      this.bytes = head.length + tail.length;
      this.records = 2 + since.length;
      await old.close().catch(() => {});
      // Durable appends written to the old file and not yet synced are in
      // the new one, which is synced.
      const waiting = [...this.awaitingSync.splice(0), ...this.pending.splice(0, waitingCount)];
      try {
        await syncDir(dirname(this.path));
      } catch (e) {
        const err = ioError(this.path, 'fsync of directory failed', e);
        for (const p of waiting) p.done(err);
        throw err;
      }
      this.counters.compactions++;
      this.synced = this.bytes;
      this.onSync?.(this.bytes);
      for (const p of waiting) p.done(null);
    } finally {
      if (tmp !== null) {
        await tmp.close().catch(() => {});
        if (!renamed) await unlink(tmpPath).catch(() => {});
      }
      this.paused = false;
      this.kick();
      this.startSync();
    }
  }

  /** Waits for every append and compaction in progress, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.compactChain;
    this.writePending();
    while (this.syncing !== null) await this.syncing;
    this.closed = true;
    await this.fh.close();
  }
}
