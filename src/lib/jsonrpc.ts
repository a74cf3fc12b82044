/**
 * JSON-RPC 1.0 as OVSDB speaks it (RFC 7047 section 4): framing of back-to-back
 * JSON texts on a byte stream, and a session that matches replies to requests,
 * dispatches incoming requests and notifications, answers `echo` and probes an
 * idle peer.
 *
 * Messages are validated the way ovsdb-server validates them (observed on
 * Open vSwitch 3.1): anything that is not a well-formed request, notification
 * or reply drops the connection, and so does a reply to no outstanding request.
 *
 * In lib, as OVS keeps jsonrpc.c in lib/: both OVSDB and the unixctl control
 * socket (ovs-appctl(8)) speak it.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { parseJson, stringifyJson } from './json-int.js';

/** Default largest message accepted by {@link JsonFramer}: 64 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * Deepest nesting of arrays and objects in a message, the top level counting as 1:
 * ovsdb-server's JSON parser refuses deeper input ("input exceeds maximum nesting
 * depth 1000") and drops the connection (observed on Open vSwitch 3.1). The bound
 * also keeps every recursive walk over a message (replies, datum parsing) far from
 * the stack's limit.
 */
export const MAX_NESTING_DEPTH = 1000;

export class FramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FramingError';
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

function isWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

export interface JsonFramerOptions {
  /** Largest message in bytes; a longer one throws FramingError while it is still arriving. Default 64 MiB. */
  maxMessageBytes?: number;
}

/**
 * Splits a byte stream into top-level JSON values (objects or arrays) sent back to
 * back without delimiters. Each byte is scanned once: the scanner tracks nesting
 * depth and string/escape state across chunks, and a message's chunks are joined
 * and decoded only when it is complete.
 */
export class JsonFramer {
  private readonly max: number;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  /** Pieces of the message in progress from earlier chunks. */
  private pieces: Buffer[] = [];
  private pieceBytes = 0;
  /** 0 = between messages. */
  private depth = 0;
  private inString = false;
  /** The previous chunk ended right after a backslash inside a string. */
  private escape = false;
  private broken: FramingError | undefined;
  /** Digits in a row outside strings, and whether the message in progress has 16 or more (an integer JSON.parse may round). */
  private digitRun = 0;
  private longInteger = false;

  constructor(opts: JsonFramerOptions = {}) {
    this.max = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** Bytes of an incomplete message held from earlier chunks. */
  get bufferedBytes(): number {
    return this.pieceBytes;
  }

  /** Feeds bytes; returns every message completed by them, in order. */
  push(chunk: Buffer): unknown[] {
    if (this.broken !== undefined) throw this.broken;
    try {
      return this.scan(chunk);
    } catch (e) {
      this.broken = e instanceof FramingError ? e : new FramingError(String(e));
      this.pieces = [];
      this.pieceBytes = 0;
      throw this.broken;
    }
  }

  private scan(chunk: Buffer): unknown[] {
    const out: unknown[] = [];
    const n = chunk.length;
    let i = 0;
    // Start of the current message inside this chunk (0 when it began in an earlier one).
    let start = 0;
    // Scanner state in locals for the hot loop; written back at the end.
    let depth = this.depth;
    let inString = this.inString;
    let escape = this.escape;
    let nextQuote = -2;
    let nextBs = -2;
    let digitRun = this.digitRun;
    while (i < n) {
      if (inString) {
        if (escape) {
          escape = false;
          i++;
          continue;
        }
        // Skip string contents with indexOf; the cached positions of the next
        // quote and backslash only move forward, so each byte is looked at once.
        if (nextQuote !== -1 && nextQuote < i) nextQuote = chunk.indexOf(QUOTE, i);
        if (nextBs !== -1 && nextBs < i) nextBs = chunk.indexOf(BACKSLASH, i);
        if (nextBs !== -1 && (nextQuote === -1 || nextBs < nextQuote)) {
          // The backslash and the byte it escapes (maybe in the next chunk).
          i = nextBs + 1;
          if (i === n) escape = true;
          else i++;
          continue;
        }
        if (nextQuote === -1) break;
        inString = false;
        i = nextQuote + 1;
        continue;
      }
      const b = chunk[i] as number;
      if (b >= 0x30 && b <= 0x39) {
        if (++digitRun >= 16) this.longInteger = true;
      } else {
        digitRun = 0;
      }
      if (depth === 0) {
        if (!isWhitespace(b)) {
          if (b !== LBRACE && b !== LBRACKET) {
            throw new FramingError(`syntax error at top level: expected '{' or '[', got ${describeByte(b)}`);
          }
          start = i;
          depth = 1;
        }
      } else if (b === QUOTE) {
        inString = true;
      } else if (b === LBRACE || b === LBRACKET) {
        if (++depth > MAX_NESTING_DEPTH) throw new FramingError(`input exceeds maximum nesting depth ${MAX_NESTING_DEPTH}`);
      } else if ((b === RBRACE || b === RBRACKET) && --depth === 0) {
        out.push(this.complete(chunk, start, i + 1));
      }
      i++;
    }
    this.depth = depth;
    this.inString = inString;
    this.escape = escape;
    this.digitRun = digitRun;
    if (depth > 0) {
      const size = this.pieceBytes + (n - start);
      if (size > this.max) throw tooBig(size, this.max);
      // Keep a reference only; the copy happens once, when the message completes.
      this.pieces.push(start === 0 ? chunk : chunk.subarray(start));
      this.pieceBytes = size;
    }
    return out;
  }

  /** The message ending at `end` (exclusive) in this chunk is complete: join, check, parse. */
  private complete(chunk: Buffer, start: number, end: number): unknown {
    const size = this.pieceBytes + (end - start);
    if (size > this.max) throw tooBig(size, this.max);
    let bytes: Uint8Array;
    if (this.pieces.length === 0) {
      bytes = chunk.subarray(start, end);
    } else {
      this.pieces.push(chunk.subarray(0, end));
      bytes = Buffer.concat(this.pieces, size);
      this.pieces = [];
      this.pieceBytes = 0;
    }
    return this.parse(bytes);
  }

  private parse(bytes: Uint8Array): unknown {
    let text: string;
    try {
      text = this.decoder.decode(bytes);
    } catch {
      throw new FramingError('invalid UTF-8 in message');
    }
    // Only a message with a long digit run can hold an integer beyond 2^53.
    const lossless = this.longInteger;
    this.longInteger = false;
    try {
      return lossless ? parseJson(text) : JSON.parse(text);
    } catch (e) {
      throw new FramingError(`invalid JSON: ${(e as Error).message}`);
    }
  }
}

function tooBig(size: number, max: number): FramingError {
  return new FramingError(`message too long: ${size} bytes exceeds the limit of ${max} bytes`);
}

function describeByte(b: number): string {
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `byte 0x${b.toString(16).padStart(2, '0')}`;
}

/** One JSON-RPC 1.0 message; requests have method+params+id, replies id+result+error. */
export interface JsonRpcMessage {
  method?: string;
  params?: unknown;
  id?: unknown;
  result?: unknown;
  error?: unknown;
}

/** An error reply: `error` is the JSON value of the reply's "error" member. */
export class RpcError extends Error {
  constructor(readonly error: unknown) {
    super(rpcErrorText(error));
    this.name = 'RpcError';
  }
}

function rpcErrorText(error: unknown): string {
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && error !== null && typeof (error as { error?: unknown }).error === 'string') {
    const e = error as { error: string; details?: unknown };
    return typeof e.details === 'string' ? `${e.error}: ${e.details}` : e.error;
  }
  return stringifyJson(error);
}

/**
 * What a request handler returns when it answers later itself, with
 * {@link JsonRpcSession.reply} or {@link JsonRpcSession.replyError}.
 */
export const REPLY_LATER: unique symbol = Symbol('reply later');

export type RequestHandler = (method: string, params: unknown, id: unknown) => unknown;
export type NotificationHandler = (method: string, params: unknown) => void;

export interface JsonRpcSessionOptions {
  /** Largest incoming message; a longer one closes the session. Default 64 MiB. */
  maxMessageBytes?: number;
  /** Name used in log lines, e.g. `unix#3`. Default: the peer address or "jsonrpc". */
  name?: string;
  /** Where protocol problems are reported. Default: nowhere. */
  log?: (msg: string) => void;
  /**
   * Inactivity probe in ms: after this long without receiving anything an `echo`
   * request is sent; after another interval of silence the session closes. 0 = off (default).
   */
  probeIntervalMs?: number;
  /**
   * Largest number of bytes written but not yet taken by the peer; past it the
   * session is dropped ("excessive sending backlog"), so a peer that stops reading
   * (a stuck monitor client) cannot make this process grow without bound.
   * Default: no limit.
   */
  maxBacklogBytes?: number;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

const MEMBERS = new Set(['method', 'params', 'id', 'result', 'error']);

/**
 * A JSON-RPC 1.0 session over a stream socket. Emits `'close'` exactly once: when
 * the peer closes or errors, on a framing or protocol error (logged through
 * `opts.log`), or after {@link close}.
 */
export class JsonRpcSession extends EventEmitter {
  readonly name: string;
  private readonly socket: Duplex;
  private readonly framer: JsonFramer;
  private readonly log: (msg: string) => void;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private requestHandler: RequestHandler | undefined;
  private notificationHandler: NotificationHandler | undefined;
  private isClosed = false;
  /** What was written in this tick and not yet handed to the socket; null when nothing is queued. */
  private outQueue: Array<string | Buffer> | null = null;
  private readonly probeMs: number;
  private readonly maxBacklog: number;
  private probeTimer: NodeJS.Timeout | undefined;
  private receivedSinceProbe = false;
  private probing = false;

  constructor(socket: Duplex, opts: JsonRpcSessionOptions = {}) {
    super();
    this.socket = socket;
    this.framer = new JsonFramer(opts.maxMessageBytes === undefined ? {} : { maxMessageBytes: opts.maxMessageBytes });
    this.log = opts.log ?? (() => {});
    this.name = opts.name ?? peerName(socket);
    this.probeMs = opts.probeIntervalMs ?? 0;
    this.maxBacklog = opts.maxBacklogBytes ?? Infinity;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.shutdown(false));
    socket.on('close', () => this.shutdown(false));
    socket.on('error', (e: Error) => {
      if (!this.isClosed) this.log(`${this.name}: connection dropped (${e.message})`);
      this.shutdown(true);
    });
    if (this.probeMs > 0) this.armProbe();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Sends a request; resolves with its result, rejects with RpcError on an error reply. */
  request(method: string, params: unknown[]): Promise<unknown> {
    if (this.isClosed) return Promise.reject(new Error(`${this.name}: session closed`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ method, params, id });
    });
  }

  /** Sends a notification (a request with a null id, which gets no reply). */
  notify(method: string, params: unknown[]): void {
    this.send({ method, params, id: null });
  }

  /**
   * Serves incoming requests (except `echo`, which the session answers). The value
   * returned (or resolved) is the result; an RpcError becomes an error reply; any
   * other exception becomes `{"error":"internal error","details":...}`.
   */
  setRequestHandler(h: RequestHandler): void {
    this.requestHandler = h;
  }

  setNotificationHandler(h: NotificationHandler): void {
    this.notificationHandler = h;
  }

  /** Writes one message; writes made in the same tick go out in one batch. */
  send(msg: JsonRpcMessage): void {
    if (this.isClosed) return;
    this.sendText(stringifyJson(msg));
  }

  /**
   * Writes one message already serialised, possibly in pieces (for fan-out:
   * a shared body encoded once between per-session parts).
   */
  sendText(...parts: Array<string | Buffer>): void {
    if (this.isClosed) return;
    // Everything written in this tick (a reply, and the notifications of
    // every commit of one write batch) leaves in one write of one buffer:
    // with tens of monitor sessions per commit, the per-write cost of the
    // stream machinery (and writev's per-chunk bookkeeping) dominated.
    if (this.outQueue === null) {
      this.outQueue = [];
      process.nextTick(() => this.flush());
    }
    for (const p of parts) this.outQueue.push(p);
  }

  /** Hands what was queued in this tick to the socket as one write. */
  private flush(): void {
    const q = this.outQueue;
    if (q === null) return;
    this.outQueue = null;
    if (this.socket.destroyed) return;
    const [first] = q;
    if (q.length === 1 && first !== undefined) this.socket.write(first);
    else if (q.every((p) => typeof p === 'string')) this.socket.write(q.join(''));
    else this.socket.write(Buffer.concat(q.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))));
    // Only here does the data reach the socket's buffer: a peer that does not read is cut off once it holds too much.
    const backlog = this.socket.writableLength;
    if (backlog > this.maxBacklog)
      this.abort(`excessive sending backlog: ${backlog} bytes unread by the peer, limit ${this.maxBacklog}, disconnecting`);
  }

  /** Answers request `id`, whose handler returned {@link REPLY_LATER}. */
  reply(id: unknown, result: unknown): void {
    this.send({ id, result: result ?? null, error: null });
  }

  /** Closes the session: pending requests reject, written data is flushed first. */
  close(): void {
    if (this.isClosed) return;
    this.shutdown(false);
    const sock = this.socket;
    this.flush();
    sock.end();
    // Keep reading (and discarding) until the peer closes too, so that unread
    // bytes do not turn our close into a reset that loses the replies we sent.
    sock.resume();
    const t = setTimeout(() => sock.destroy(), 1000);
    t.unref();
    sock.once('close', () => clearTimeout(t));
  }

  /** Drops the connection at once (after a protocol error). */
  private abort(reason: string): void {
    if (this.isClosed) return;
    this.log(`${this.name}: ${reason}`);
    this.shutdown(false);
    this.flush();
    this.socket.destroy();
  }

  private shutdown(destroy: boolean): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.probeTimer !== undefined) clearTimeout(this.probeTimer);
    const err = new Error(`${this.name}: connection closed`);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    if (destroy) this.socket.destroy();
    this.emit('close');
  }

  private onData(chunk: Buffer): void {
    if (this.isClosed) return;
    this.receivedSinceProbe = true;
    let msgs: unknown[];
    try {
      msgs = this.framer.push(chunk);
    } catch (e) {
      this.abort(`error parsing stream: ${(e as Error).message}`);
      return;
    }
    for (const m of msgs) {
      if (this.isClosed) return;
      try {
        this.dispatch(m);
      } catch (e) {
        // A bug in a handler or in building a reply costs this connection, never the process.
        this.abort(`internal error handling message: ${String(e)}`);
        return;
      }
    }
  }

  private dispatch(m: unknown): void {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) {
      this.abort('received bad JSON-RPC message: message is not a JSON object');
      return;
    }
    const msg = m as Record<string, unknown>;
    for (const k in msg) {
      if (!MEMBERS.has(k)) {
        this.abort(`received bad JSON-RPC message: message has unexpected member "${k}"`);
        return;
      }
    }
    if ('method' in msg) {
      if ('result' in msg) {
        this.abort('received bad JSON-RPC message: request has unexpected member "result"');
        return;
      }
      const method = msg['method'];
      if (typeof method !== 'string') {
        this.abort('received bad JSON-RPC message: method is not a JSON string');
        return;
      }
      if (!('params' in msg)) {
        this.abort('received bad JSON-RPC message: request must have "params"');
        return;
      }
      const params = msg['params'];
      if (!Array.isArray(params)) {
        this.abort('received bad JSON-RPC message: "params" must be JSON array');
        return;
      }
      const id = msg['id'];
      if (id === undefined || id === null) this.onNotification(method, params);
      else this.onRequest(method, params, id);
      return;
    }
    if ('result' in msg || 'error' in msg) {
      const id = msg['id'];
      if (id === undefined) {
        this.abort('received bad JSON-RPC message: reply must have "id"');
        return;
      }
      const p = typeof id === 'number' ? this.pending.get(id) : undefined;
      const error = msg['error'];
      const isError = error !== undefined && error !== null;
      if (p === undefined) {
        this.abort(`received unexpected ${isError ? 'error' : 'reply'} message`);
        return;
      }
      this.pending.delete(id as number);
      if (isError) p.reject(new RpcError(error));
      else p.resolve(msg['result']);
      return;
    }
    this.abort('received bad JSON-RPC message: message is not a request, notification or reply');
  }

  private onNotification(method: string, params: unknown[]): void {
    const h = this.notificationHandler;
    if (h === undefined) return;
    try {
      h(method, params);
    } catch (e) {
      this.log(`${this.name}: notification handler for "${method}" failed: ${String(e)}`);
    }
  }

  private onRequest(method: string, params: unknown[], id: unknown): void {
    if (method === 'echo') {
      this.send({ id, result: params, error: null });
      return;
    }
    const h = this.requestHandler;
    if (h === undefined) {
      this.send({ id, result: null, error: 'unknown method' });
      return;
    }
    let r: unknown;
    try {
      r = h(method, params, id);
    } catch (e) {
      this.replyError(id, e);
      return;
    }
    if (r === REPLY_LATER) return;
    if (r instanceof Promise) {
      r.then(
        (v: unknown) => this.send({ id, result: v ?? null, error: null }),
        (e: unknown) => this.replyError(id, e),
      ).catch((e: unknown) => this.abort(`internal error sending reply: ${String(e)}`));
    } else {
      this.send({ id, result: r ?? null, error: null });
    }
  }

  /** An error reply to request `id`: an RpcError's `error` as it is, anything else as "internal error". */
  replyError(id: unknown, e: unknown): void {
    if (e instanceof RpcError) {
      this.send({ id, result: null, error: e.error });
    } else {
      this.log(`${this.name}: internal error: ${String(e)}`);
      this.send({ id, result: null, error: { error: 'internal error', details: String(e) } });
    }
  }

  private armProbe(): void {
    this.probeTimer = setTimeout(() => this.onProbeTimer(), this.probeMs);
    this.probeTimer.unref();
  }

  private onProbeTimer(): void {
    if (this.isClosed) return;
    if (this.receivedSinceProbe) {
      this.receivedSinceProbe = false;
      this.probing = false;
      this.armProbe();
      return;
    }
    if (this.probing) {
      this.abort(`no response to inactivity probe after ${(this.probeMs * 2) / 1000} seconds, disconnecting`);
      return;
    }
    this.probing = true;
    this.request('echo', []).catch(() => {});
    this.armProbe();
  }
}

function peerName(socket: Duplex): string {
  const s = socket as Duplex & { remoteAddress?: string; remotePort?: number };
  if (typeof s.remoteAddress === 'string') return `tcp:${s.remoteAddress}:${s.remotePort ?? 0}`;
  return 'jsonrpc';
}
