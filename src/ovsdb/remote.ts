/**
 * OVSDB remotes (ovsdb-server(1) "--remote", ovsdb-client(1) SERVER): the
 * `punix:`, `ptcp:`, `pssl:`, `unix:`, `tcp:` and `ssl:` connection methods.
 */
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { unlinkSync, lstatSync } from 'node:fs';
import { connectSsl, listenSsl, SslConfigError, type SslOptions } from './stream-ssl.js';
import { bindErrnoText, errnoText } from '../lib/errno-text.js';

export { missingSslConfig, reloadSslListener } from './stream-ssl.js';

export type { SslOptions } from './stream-ssl.js';

/** The port OVSDB uses when a tcp/ptcp remote gives none (IANA-assigned). */
export const OVSDB_DEFAULT_PORT = 6640;

export type Remote =
  | { readonly kind: 'punix'; readonly path: string }
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'ptcp' | 'pssl'; readonly port: number; readonly host: string }
  | { readonly kind: 'tcp' | 'ssl'; readonly host: string; readonly port: number };

export class RemoteError extends Error {
  constructor(
    message: string,
    /** The socket error's errno name (`ENOENT`...), for callers that report it in OVS's words. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'RemoteError';
  }
}

function parsePort(text: string, remote: string): number {
  if (text === '') return OVSDB_DEFAULT_PORT;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 0 && n <= 65535)) throw new RemoteError(`${remote}: bad port number "${text}"`);
  return n;
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * Parses a remote: `punix:PATH`, `ptcp:[PORT][:IP]`, `pssl:[PORT][:IP]`
 * (passive), `unix:PATH`, `tcp:IP[:PORT]`, `ssl:IP[:PORT]` (active; IPv6
 * addresses in brackets, `tcp:[::1]:6641`).
 */
export function parseRemote(s: string): Remote {
  const colon = s.indexOf(':');
  if (colon < 0) throw new RemoteError(`${s}: unknown stream type`);
  const type = s.slice(0, colon);
  const rest = s.slice(colon + 1);
  switch (type) {
    case 'punix':
    case 'unix':
      if (rest === '') throw new RemoteError(`${s}: missing socket path`);
      return { kind: type, path: rest };
    case 'ptcp':
    case 'pssl': {
      // ptcp:PORT[:IP], the IP possibly an IPv6 address with or without brackets.
      const c = rest.indexOf(':');
      const port = parsePort(c < 0 ? rest : rest.slice(0, c), s);
      const host = c < 0 || c === rest.length - 1 ? '0.0.0.0' : stripBrackets(rest.slice(c + 1));
      return { kind: type, port, host };
    }
    case 'tcp':
    case 'ssl': {
      let host: string;
      let portText: string;
      if (rest.startsWith('[')) {
        const close = rest.indexOf(']');
        if (close < 0) throw new RemoteError(`${s}: bad IPv6 address`);
        host = rest.slice(1, close);
        const after = rest.slice(close + 1);
        if (after !== '' && !after.startsWith(':')) throw new RemoteError(`${s}: bad address`);
        portText = after.slice(1);
      } else {
        const c = rest.lastIndexOf(':');
        if (c >= 0 && rest.indexOf(':') !== c) {
          // A bare IPv6 address without a port.
          host = rest;
          portText = '';
        } else {
          host = c < 0 ? rest : rest.slice(0, c);
          portText = c < 0 ? '' : rest.slice(c + 1);
        }
      }
      if (host === '') throw new RemoteError(`${s}: missing host`);
      return { kind: type, host, port: parsePort(portText, s) };
    }
    default:
      throw new RemoteError(`${s}: unknown stream type`);
  }
}

/** The remote in its text form (for ptcp with port 0, pass the server to get the bound port). */
export function formatRemote(r: Remote): string {
  const h = (host: string): string => (host.includes(':') ? `[${host}]` : host);
  switch (r.kind) {
    case 'punix':
    case 'unix':
      return `${r.kind}:${r.path}`;
    case 'ptcp':
    case 'pssl':
      return `${r.kind}:${r.port}:${h(r.host)}`;
    case 'tcp':
    case 'ssl':
      return `${r.kind}:${h(r.host)}:${r.port}`;
  }
}

/** The active remote that reaches a listening server, e.g. `tcp:127.0.0.1:40123` for `ptcp:0:127.0.0.1`. */
export function activeRemoteFor(server: Server): string {
  const a = server.address();
  if (a === null) throw new RemoteError('server is not listening');
  if (typeof a === 'string') return `unix:${a}`;
  const host = a.address === '0.0.0.0' ? '127.0.0.1' : a.address === '::' ? '::1' : a.address;
  return formatRemote({ kind: 'tcp', host, port: a.port });
}

/** What `listen` and `connect` need besides the remote. */
export interface StreamOptions {
  /**
   * Keys and certificates for `ssl:` and `pssl:` remotes; for `pssl:`, a
   * function when they can change, asked again when the listener looks for
   * changed files.
   */
  ssl?: SslOptions | (() => SslOptions);
  /** Reports refused SSL handshakes and bootstrapped CA certificates. Default: ignore. */
  log?: (msg: string) => void;
  /** Reports bad `--ssl-protocols`/`--ssl-ciphers` values and unusable replaced SSL files. Default: `log`. */
  sslErrorLog?: (msg: string) => void;
}

function sslSettings(ssl: StreamOptions['ssl']): SslOptions {
  return typeof ssl === 'function' ? ssl() : (ssl ?? {});
}

/**
 * Listens on a passive remote. For `punix:` a stale socket file is removed first;
 * for `ptcp:`/`pssl:` with port 0, `server.address().port` is the bound port.
 */
export function listen(remote: Remote | string, onSocket: (sock: Socket) => void, opts: StreamOptions = {}): Promise<Server> {
  const r = typeof remote === 'string' ? parseRemote(remote) : remote;
  if (r.kind === 'pssl') {
    const log = opts.log ?? (() => {});
    return (async () => {
      try {
        const ssl = opts.ssl;
        return await listenSsl(r.port, r.host, () => sslSettings(ssl), onSocket, log, opts.sslErrorLog ?? log);
      } catch (e) {
        throw new RemoteError(`${formatRemote(r)}: listen failed (${(e as Error).message})`);
      }
    })();
  }
  if (r.kind !== 'punix' && r.kind !== 'ptcp') {
    return Promise.reject(new RemoteError(`${formatRemote(r)}: not a passive remote`));
  }
  const server = createServer((sock) => onSocket(sock));
  if (r.kind === 'punix') {
    try {
      if (lstatSync(r.path).isSocket()) unlinkSync(r.path);
    } catch {
      // Nothing there.
    }
  }
  return new Promise((resolve, reject) => {
    const reason = (e: Error): string => (r.kind === 'punix' ? bindErrnoText(e, r.path) : errnoText(e));
    const onError = (e: Error): void => reject(new RemoteError(`${formatRemote(r)}: listen failed (${reason(e)})`));
    server.once('error', onError);
    const done = (): void => {
      server.off('error', onError);
      resolve(server);
    };
    if (r.kind === 'punix') server.listen(r.path, done);
    else server.listen(r.port, r.host, done);
  });
}

/** Connects to an active remote. */
export function connect(remote: Remote | string, opts: StreamOptions = {}): Promise<Socket> {
  const r = typeof remote === 'string' ? parseRemote(remote) : remote;
  if (r.kind === 'ssl') {
    return connectSsl(r.host, r.port, sslSettings(opts.ssl), opts.sslErrorLog ?? opts.log).catch((e: unknown) => {
      // A refused or failed handshake is what OVS reports as EPROTO ("Protocol error").
      const code = (e as NodeJS.ErrnoException).code;
      const errno = e instanceof SslConfigError ? undefined : code === undefined || code.startsWith('ERR_') ? 'EPROTO' : code;
      throw new RemoteError(`${formatRemote(r)}: connection failed (${(e as Error).message})`, errno);
    });
  }
  if (r.kind !== 'unix' && r.kind !== 'tcp') {
    return Promise.reject(new RemoteError(`${formatRemote(r)}: not an active remote`));
  }
  return new Promise((resolve, reject) => {
    const sock = r.kind === 'unix' ? createConnection(r.path) : createConnection(r.port, r.host);
    const onError = (e: Error): void => {
      sock.destroy();
      reject(new RemoteError(`${formatRemote(r)}: connection failed (${errnoText(e)})`, (e as NodeJS.ErrnoException).code));
    };
    sock.once('error', onError);
    sock.once('connect', () => {
      sock.off('error', onError);
      if (r.kind === 'tcp') sock.setNoDelay(true);
      resolve(sock);
    });
  });
}
