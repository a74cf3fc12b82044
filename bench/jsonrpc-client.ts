/**
 * A minimal OVSDB JSON-RPC 1.0 client for the benchmarks (RFC 7047 section 4).
 *
 * Kept apart from src/ovsdb on purpose: the bench drives ovnts and the real
 * ovsdb-server with the same few lines of code, so neither side benefits from
 * a client tuned to it.
 */
import { connect, type Socket } from 'node:net';

/** Largest message the bench accepts before it gives up on a connection. */
const MAX_MESSAGE_BYTES = 512 * 1024 * 1024;

const BYTE_QUOTE = 0x22;
const BYTE_BACKSLASH = 0x5c;
const BYTE_LBRACE = 0x7b;
const BYTE_RBRACE = 0x7d;
const BYTE_LBRACKET = 0x5b;
const BYTE_RBRACKET = 0x5d;

/**
 * Splits a byte stream of concatenated JSON texts (no delimiter between them)
 * into the texts, by tracking bracket depth outside strings. Every structural
 * byte is ASCII, so scanning bytes is safe for UTF-8 input split anywhere.
 */
export class JsonStreamSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;

  /** Feeds one chunk; returns the complete texts it finished. */
  push(chunk: Buffer): string[] {
    const out: string[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as number;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BYTE_BACKSLASH) this.escaped = true;
        else if (c === BYTE_QUOTE) this.inString = false;
        continue;
      }
      if (c === BYTE_QUOTE) {
        this.inString = true;
      } else if (c === BYTE_LBRACE || c === BYTE_LBRACKET) {
        this.depth++;
      } else if (c === BYTE_RBRACE || c === BYTE_RBRACKET) {
        this.depth--;
        if (this.depth === 0) {
          const tail = chunk.subarray(start, i + 1);
          const text =
            this.pending.length === 0
              ? tail.toString('utf8')
              : Buffer.concat([...this.pending, tail], this.pendingBytes + tail.length).toString('utf8');
          this.pending = [];
          this.pendingBytes = 0;
          out.push(text);
          start = i + 1;
        } else if (this.depth < 0) {
          throw new Error('unbalanced JSON in stream');
        }
      } else if (this.depth === 0 && this.pending.length === 0 && start === i) {
        // Whitespace between messages.
        start = i + 1;
      }
    }
    if (start < chunk.length) {
      this.pendingBytes += chunk.length - start;
      if (this.pendingBytes > MAX_MESSAGE_BYTES) throw new Error(`message longer than ${MAX_MESSAGE_BYTES} bytes`);
      this.pending.push(chunk.subarray(start));
    }
    return out;
  }
}

interface Pending {
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export type NotificationHandler = (method: string, params: unknown[]) => void;

/** One JSON-RPC connection to an OVSDB server over a Unix socket. */
export class RpcClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly splitter = new JsonStreamSplitter();
  private closedError: Error | undefined;
  onNotification: NotificationHandler = () => {};

  private constructor(
    private readonly socket: Socket,
    /** Names the server and workload in every error. */
    readonly label: string,
  ) {
    socket.on('data', (chunk: Buffer) => {
      let texts: string[];
      try {
        texts = this.splitter.push(chunk);
      } catch (e) {
        this.fail(new Error(`${label}: bad stream from server: ${(e as Error).message}`));
        return;
      }
      for (const t of texts) this.dispatch(t);
    });
    socket.on('error', (e) => this.fail(new Error(`${label}: socket error: ${e.message}`)));
    socket.on('close', () => this.fail(new Error(`${label}: connection closed by server`)));
  }

  /** Connects once; rejects on any error (no retry: see {@link waitForSocket}). */
  static connect(path: string, label: string, timeoutMs: number): Promise<RpcClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`${label}: connect to ${path} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`${label}: connect to ${path}: ${e.message}`));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.setNoDelay(true);
        resolve(new RpcClient(socket, label));
      });
    });
  }

  /** Sends a request; resolves with `result`, rejects on `error` or timeout. */
  request(method: string, params: unknown[], timeoutMs: number): Promise<unknown> {
    if (this.closedError !== undefined) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.label}: ${method} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.write(JSON.stringify({ method, params, id }));
    });
  }

  close(): void {
    this.closedError ??= new Error(`${this.label}: connection closed`);
    this.socket.destroy();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(this.closedError);
    }
    this.pending.clear();
  }

  private fail(err: Error): void {
    if (this.closedError !== undefined) return;
    this.closedError = err;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }

  private dispatch(text: string): void {
    let msg: { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch (e) {
      this.fail(new Error(`${this.label}: bad JSON from server: ${(e as Error).message}`));
      return;
    }
    if (typeof msg.method === 'string') {
      const params = Array.isArray(msg.params) ? (msg.params as unknown[]) : [];
      if (msg.method === 'echo' && msg.id !== null && msg.id !== undefined) {
        this.socket.write(JSON.stringify({ id: msg.id, result: params, error: null }));
      } else if (msg.id === null || msg.id === undefined) {
        this.onNotification(msg.method, params);
      }
      return;
    }
    if (typeof msg.id !== 'number') return;
    const p = this.pending.get(msg.id);
    if (p === undefined) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.error !== null && msg.error !== undefined) {
      p.reject(new Error(`${this.label}: server error: ${JSON.stringify(msg.error)}`));
    } else {
      p.resolve(msg.result);
    }
  }
}

/**
 * Polls a Unix socket until a connection succeeds (the server's readiness
 * barrier), giving up after `timeoutMs` or when `exited()` says the server died.
 */
export async function waitForSocket(path: string, label: string, timeoutMs: number, exited: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = exited();
    if (why !== undefined) throw new Error(`${label}: server exited before it was ready: ${why}`);
    try {
      const c = await RpcClient.connect(path, label, Math.max(1, deadline - Date.now()));
      c.close();
      return;
    } catch (e) {
      if (Date.now() >= deadline) {
        throw new Error(`${label}: not listening on ${path} after ${timeoutMs} ms (${(e as Error).message})`);
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
