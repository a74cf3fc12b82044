/**
 * The OVSDB server component: RFC 7047's JSON-RPC methods and the Open vSwitch
 * extensions (ovsdb-server(7)) over any number of passive remotes, for any
 * number of databases, plus the read-only `_Server` database.
 */
import type { Server as NetServer, Socket } from 'node:net';
import { JsonRpcSession, RpcError } from '../lib/jsonrpc.js';
import { listen, parseRemote } from './remote.js';
import { executeTransaction, type ExecOutcome } from './transaction.js';
import { HostedDatabase } from './hosted-database.js';
import { Monitor, composeChanges, type MonitorKind } from './monitor.js';
import { OvsdbError, OVSDB_ERROR, syntaxError } from './error.js';
import { newUuid, type Datum } from './datum.js';
import { parseSchema } from './schema.js';
import { LockTable } from './locks.js';
import { SCHEMA_FILES, loadSchemaJson } from './schema-files.js';
import type { RowChange } from './database.js';

export interface OvsdbServerOptions {
  /** Passive remotes such as `punix:/run/ovnts/nb.sock` or `ptcp:6641:127.0.0.1`. */
  remotes: readonly string[];
  databases: readonly HostedDatabase[];
  /** Largest JSON-RPC message accepted; bigger ones close that connection. Default 64 MiB. */
  maxMessageBytes?: number;
  /** Echo probe interval for TCP clients in ms; 0 disables. Default 5000 (unix sockets are never probed). */
  probeIntervalMs?: number;
  log?: (msg: string) => void;
  /** Log every request received (the first 4 KiB of its parameters). Default false. */
  traceRequests?: boolean;
}

interface Session {
  readonly rpc: JsonRpcSession;
  readonly monitors: Map<string, { monitor: Monitor; hosted: HostedDatabase }>;
  readonly locks: Set<string>;
  dbChangeAware: boolean;
  closed: boolean;
}

interface Trigger {
  readonly session: Session;
  readonly hosted: HostedDatabase;
  readonly id: unknown;
  readonly ops: unknown[];
  readonly startMs: number;
  timer: NodeJS.Timeout | undefined;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

const monitorKey = (id: unknown): string => JSON.stringify(id);
const BLOCKED = Symbol('blocked');

export class OvsdbServer {
  readonly serverId = newUuid();
  private readonly opts: OvsdbServerOptions;
  private readonly dbs = new Map<string, HostedDatabase>();
  private readonly serverDb: HostedDatabase;
  private readonly listeners: NetServer[] = [];
  private readonly sessions = new Set<Session>();
  private readonly triggers = new Set<Trigger>();
  private readonly locks = new LockTable<Session>();
  private readonly log: (msg: string) => void;
  private logBudget = { windowStart: 0, count: 0 };

  constructor(opts: OvsdbServerOptions) {
    this.opts = opts;
    this.log = opts.log ?? (() => {});
    for (const d of opts.databases) this.dbs.set(d.name, d);
    this.serverDb = HostedDatabase.inMemory(parseSchema(loadSchemaJson(SCHEMA_FILES._Server)));
    this.refreshServerDb();
  }

  /** The bound addresses, e.g. to learn the port of `ptcp:0`. */
  get addresses(): string[] {
    return this.listeners.map((l) => {
      const a = l.address();
      return typeof a === 'string' ? `unix:${a}` : a === null ? '' : `tcp:${a.address}:${a.port}`;
    });
  }

  async start(): Promise<void> {
    for (const r of this.opts.remotes) {
      const remote = parseRemote(r);
      const probe = remote.kind === 'ptcp' ? (this.opts.probeIntervalMs ?? 5000) : 0;
      this.listeners.push(await listen(remote, (sock) => this.accept(sock, probe)));
    }
  }

  async stop(): Promise<void> {
    for (const l of this.listeners) l.close();
    for (const s of this.sessions) s.rpc.close();
    for (const t of this.triggers) clearTimeout(t.timer);
    this.triggers.clear();
    await Promise.all([...this.dbs.values()].map((d) => d.close()));
  }

  /** Logs at most 20 lines a second, so a flood of bad input cannot flood the log. */
  private rateLimitedLog(msg: string): void {
    const now = Date.now();
    if (now - this.logBudget.windowStart > 1000) this.logBudget = { windowStart: now, count: 0 };
    if (++this.logBudget.count <= 20) this.log(msg);
  }

  /** Serves one already-connected stream (used by listeners and by in-process clients). */
  accept(sock: Socket, probeIntervalMs = 0): void {
    const rpc = new JsonRpcSession(sock, {
      maxMessageBytes: this.opts.maxMessageBytes ?? 64 * 1024 * 1024,
      probeIntervalMs,
      log: (m: string) => this.rateLimitedLog(m),
    });
    const session: Session = { rpc, monitors: new Map(), locks: new Set(), dbChangeAware: false, closed: false };
    this.sessions.add(session);
    const trace = this.opts.traceRequests === true;
    rpc.setRequestHandler((method, params, id) => {
      if (trace) this.log(`${rpc.name}: received request ${method} ${JSON.stringify(params).slice(0, 4096)}`);
      return this.handle(session, method, params, id);
    });
    // RFC 7047 4.1.4: "cancel" is a notification naming an outstanding transact.
    rpc.setNotificationHandler((method, params) => {
      if (method === 'cancel' && Array.isArray(params)) this.cancel(session, params[0]);
    });
    rpc.on('close', () => this.closeSession(session));
  }

  private closeSession(s: Session): void {
    if (s.closed) return;
    s.closed = true;
    this.sessions.delete(s);
    for (const t of this.triggers) if (t.session === s) this.dropTrigger(t);
    for (const name of s.locks) this.releaseLock(s, name);
  }

  private hosted(name: unknown, method: string, params: unknown): HostedDatabase {
    if (typeof name === 'string') {
      if (name === '_Server') return this.serverDb;
      const d = this.dbs.get(name);
      if (d !== undefined) return d;
    }
    throw new RpcError(new OvsdbError(OVSDB_ERROR.UNKNOWN_DATABASE, `${method} request specifies unknown database ${String(name)}`, params).toJson());
  }

  private handle(s: Session, method: string, params: unknown, id: unknown): unknown {
    const p = Array.isArray(params) ? params : [];
    switch (method) {
      case 'list_dbs':
        return [...this.dbs.keys(), '_Server'];
      case 'get_schema':
        return this.hosted(p[0], method, params).db.schema.json;
      case 'transact':
        return this.transact(s, p, id);
      case 'monitor':
      case 'monitor_cond':
      case 'monitor_cond_since':
        return this.monitor(s, method, p);
      case 'monitor_cond_change':
        return this.monitorCondChange(s, p);
      case 'monitor_cancel': {
        const key = monitorKey(p[0]);
        if (!s.monitors.delete(key)) throw new RpcError('unknown monitor');
        return {};
      }
      case 'lock':
      case 'steal':
      case 'unlock':
        return this.lockRequest(s, method, p[0]);
      case 'set_db_change_aware':
        s.dbChangeAware = p[0] === true;
        return {};
      case 'get_server_id':
        return this.serverId;
      default:
        throw new RpcError('unknown method');
    }
  }

  private transact(s: Session, p: unknown[], id: unknown): unknown {
    if (p.length === 0) {
      throw new RpcError(syntaxError(p, 'transact request params must begin with <db-name>').toJson());
    }
    const hosted = this.hosted(p[0], 'transact', p);
    const t: Trigger = { session: s, hosted, id, ops: p.slice(1), startMs: Date.now(), timer: undefined, resolve: () => {}, reject: () => {} };
    const reply = this.attempt(t);
    if (reply !== BLOCKED) return reply;
    return new Promise((resolve, reject) => {
      t.resolve = resolve;
      t.reject = reject;
    });
  }

  /**
   * Runs a transaction once. Returns its reply — the results at once when
   * nothing is waiting to become durable, otherwise a promise for them — or
   * BLOCKED when a "wait" holds it until the next commit or its deadline.
   */
  private attempt(t: Trigger): unknown {
    const out = this.execute(t);
    if (out.status === 'blocked') {
      if (!this.triggers.has(t)) {
        this.triggers.add(t);
        if (out.retryAtMs !== Infinity) {
          t.timer = setTimeout(() => this.retry(t), Math.max(0, out.retryAtMs - Date.now()));
        }
      }
      return BLOCKED;
    }
    this.dropTrigger(t);
    const { hosted } = t;
    const { results } = out;
    if (out.status !== 'committed' || out.changes.length === 0) return hosted.whenDurable(results);
    const durable = hosted.commit(out.changes, out.comment).then(
      () => results,
      (e: unknown) => {
        this.log(String(e));
        return [...results, (e instanceof OvsdbError ? e : new OvsdbError(OVSDB_ERROR.IO_ERROR, String(e))).toJson()];
      },
    );
    this.dispatch(hosted, out.changes);
    this.retryTriggers(hosted);
    // Queued behind the commit's notifications: a client sees its replica
    // updated before the reply that acknowledges the change.
    return new Promise((resolve) => hosted.afterDurable(() => resolve(durable)));
  }

  /** Re-runs a blocked transaction and, when it finishes, answers it. */
  private retry(t: Trigger): void {
    if (!this.triggers.has(t)) return;
    let reply: unknown;
    try {
      reply = this.attempt(t);
    } catch (e) {
      this.dropTrigger(t);
      t.reject(e);
      return;
    }
    if (reply !== BLOCKED) t.resolve(reply);
  }

  private execute(t: Trigger): ExecOutcome {
    if (t.hosted === this.serverDb && t.ops.some((o) => isWrite(o))) {
      const err = new OvsdbError(OVSDB_ERROR.PERMISSION_ERROR, 'The _Server database is read-only.');
      return { status: 'failed', results: [err.toJson()] };
    }
    return executeTransaction(t.hosted.db, t.ops, {
      startMs: t.startMs,
      nowMs: Date.now(),
      hasLock: (name) => t.session.locks.has(name) && this.locks.owner(name) === t.session,
    });
  }

  private retryTriggers(hosted: HostedDatabase): void {
    for (const t of [...this.triggers]) if (t.hosted === hosted) this.retry(t);
  }

  private dropTrigger(t: Trigger): void {
    this.triggers.delete(t);
    clearTimeout(t.timer);
  }

  private cancel(s: Session, id: unknown): void {
    for (const t of this.triggers) {
      if (t.session === s && JSON.stringify(t.id) === JSON.stringify(id)) {
        this.dropTrigger(t);
        t.reject(new RpcError('canceled'));
      }
    }
  }

  /**
   * Computes every monitor's view of a commit now, in commit order, and sends
   * it once the commit is durable. Computing at commit time keeps each
   * monitor's replica in step with the commit sequence even when condition
   * changes and new monitors arrive while writes are still in flight.
   */
  private dispatch(hosted: HostedDatabase, changes: readonly RowChange[]): void {
    const txnId = JSON.stringify(hosted.txnId);
    // Monitors that select the same things get the same update: compute and
    // serialise it once per commit, and only splice in each monitor's id.
    const byKey = new Map<string, Buffer | null>();
    const out: Array<[Session, string, Buffer]> = [];
    for (const s of this.sessions) {
      for (const { monitor, hosted: h } of s.monitors.values()) {
        if (h !== hosted) continue;
        let body = byKey.get(monitor.specKey);
        if (body === undefined) {
          const u = monitor.update(changes);
          body = u === null ? null : Buffer.from(`${JSON.stringify(u)}],"id":null}`);
          byKey.set(monitor.specKey, body);
        }
        if (body === null) continue;
        const id = JSON.stringify(monitor.id);
        const head =
          monitor.kind === 'monitor' ? `{"method":"update","params":[${id},`
          : monitor.kind === 'monitor_cond' ? `{"method":"update2","params":[${id},`
          : `{"method":"update3","params":[${id},${txnId},`;
        out.push([s, head, body]);
      }
    }
    if (out.length === 0) return;
    hosted.afterDurable(() => {
      for (const [s, head, body] of out) if (!s.closed) s.rpc.sendText(Buffer.concat([Buffer.from(head), body]));
    });
  }

  private monitor(s: Session, method: MonitorKind, p: unknown[]): unknown {
    const hosted = this.hosted(p[0], method, p);
    const key = monitorKey(p[1]);
    if (s.monitors.has(key)) throw new RpcError(syntaxError(p[1], 'duplicate monitor ID').toJson());
    let monitor: Monitor;
    try {
      monitor = new Monitor(hosted.db, method, p[1], p[2]);
    } catch (e) {
      if (e instanceof OvsdbError) throw new RpcError(e.toJson());
      throw e;
    }
    // The snapshot is taken now and the monitor joins now, so it sees exactly
    // the commits after the snapshot; the reply waits for durability like any
    // update, which keeps it ahead of those commits' notifications.
    let result: unknown;
    if (method === 'monitor_cond_since') {
      const since = typeof p[3] === 'string' ? hosted.commitsSince(p[3]) : undefined;
      if (since === undefined) result = [false, hosted.txnId, monitor.initial()];
      else result = [true, hosted.txnId, monitor.update(composeChanges(since.map((c) => c.changes))) ?? {}];
    } else {
      result = monitor.initial();
    }
    s.monitors.set(key, { monitor, hosted });
    return hosted.whenDurable(result);
  }

  private monitorCondChange(s: Session, p: unknown[]): Promise<unknown> {
    const entry = s.monitors.get(monitorKey(p[0]));
    if (entry === undefined) throw new RpcError(syntaxError(p[0], 'unknown monitor session').toJson());
    const { monitor, hosted } = entry;
    let u: ReturnType<Monitor['changeConditions']>;
    try {
      u = monitor.changeConditions(p[2]);
    } catch (e) {
      if (e instanceof OvsdbError) throw new RpcError(e.toJson());
      throw e;
    }
    s.monitors.delete(monitorKey(p[0]));
    monitor.id = p[1];
    s.monitors.set(monitorKey(p[1]), entry);
    const txnId = hosted.txnId;
    // The update for the new condition goes out before the reply, as
    // ovsdb-server(7) 4.1.13 promises, and after earlier commits' updates.
    return new Promise((resolve) =>
      hosted.afterDurable(() => {
        if (u !== null) {
          if (monitor.kind === 'monitor_cond_since') s.rpc.notify('update3', [monitor.id, txnId, u]);
          else s.rpc.notify('update2', [monitor.id, u]);
        }
        resolve({});
      }),
    );
  }

  private lockRequest(s: Session, method: string, name: unknown): unknown {
    if (typeof name !== 'string') throw new RpcError(new OvsdbError(OVSDB_ERROR.SYNTAX_ERROR, 'lock name must be a string').toJson());
    if (method === 'unlock') {
      this.releaseLock(s, name);
      return {};
    }
    if (method === 'lock' && s.locks.has(name)) {
      throw new RpcError(syntaxError([name], 'must issue "unlock" before new "lock"').toJson());
    }
    s.locks.add(name);
    if (method === 'steal') {
      const prev = this.locks.steal(name, s);
      if (prev !== undefined && prev !== s) prev.rpc.notify('stolen', [name]);
      return { locked: true };
    }
    return { locked: this.locks.request(name, s) };
  }

  private releaseLock(s: Session, name: string): void {
    if (!s.locks.delete(name)) return;
    const next = this.locks.release(name, s);
    if (next !== undefined) next.rpc.notify('locked', [name]);
  }

  /** Keeps `_Server.Database` describing the hosted databases (ovsdb-server(5)). */
  private refreshServerDb(): void {
    const table = this.serverDb.db.table('Database');
    const changes: RowChange[] = [];
    for (const d of this.dbs.values()) {
      const cols = table.defaultCols();
      const str = (v: string): Datum => ({ keys: [v] });
      cols['name'] = str(d.name);
      cols['model'] = str('standalone');
      cols['connected'] = { keys: [true] };
      cols['leader'] = { keys: [true] };
      cols['schema'] = str(JSON.stringify(d.db.schema.json));
      const uuid = newUuid();
      changes.push({ table, uuid, old: null, new: { uuid, version: newUuid(), cols } });
    }
    this.serverDb.db.apply(changes);
  }
}

function isWrite(op: unknown): boolean {
  if (typeof op !== 'object' || op === null) return false;
  const kind = (op as { op?: unknown }).op;
  return kind === 'insert' || kind === 'update' || kind === 'mutate' || kind === 'delete';
}
