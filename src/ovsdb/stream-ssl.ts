/**
 * The `ssl:` and `pssl:` connection methods (ovsdb-server(1) "--remote",
 * ovsdb-client(1) SERVER, and the SSL options every OVS tool takes). As in
 * Open vSwitch, both ends present a certificate and each verifies the
 * other's against its CA certificate; host names are not checked, the CA
 * is the trust anchor.
 *
 * `--bootstrap-ca-cert=FILE` (clients only, as in OVS): when FILE does not
 * exist yet, the first connection accepts the server's chain unverified,
 * takes the self-signed certificate at its top as the CA, writes it to FILE
 * (read-only, as OVS writes it) and connects again, now verifying with it.
 * The server must send its CA in its chain for that (`--peer-ca-cert`). The
 * real tools instead drop that first connection ("Protocol error") and use
 * the file from the next one on.
 *
 * Key, certificate and CA files may be replaced under the same name (a
 * renewed certificate): as ovsdb-server does, a listener notices a changed
 * file (its modification time, size or inode), checking at most once a
 * second when a connection arrives, and uses the new contents for that
 * connection and the next ones; open connections keep what they had. A
 * client reads the files at every connection it makes.
 */
import {
  connect as tlsConnect,
  Server as TlsServer,
  type PeerCertificate,
  type TLSSocket,
  type ConnectionOptions,
  type SecureContextOptions,
} from 'node:tls';
import type { Server, Socket } from 'node:net';
import { existsSync, readFileSync, writeFileSync, renameSync, statSync } from 'node:fs';
import { tlsPolicy } from './ssl-policy.js';

/** The SSL files of ovsdb-server(1)'s and the OVN tools' "Public Key Infrastructure Options". */
export interface SslOptions {
  /** `-p`, `--private-key=FILE`: this end's private key (PEM). */
  privateKey?: string;
  /** `-c`, `--certificate=FILE`: this end's certificate (PEM), signed by a CA the peer trusts. */
  certificate?: string;
  /** `-C`, `--ca-cert=FILE`: the CA certificate that the peer's certificate must be signed by. */
  caCert?: string;
  /** `--bootstrap-ca-cert=FILE`: like caCert, but learnt from the server on first contact when FILE is missing. */
  bootstrapCaCert?: string;
  /** `--peer-ca-cert=FILE`: a CA certificate sent along with ours, for peers that bootstrap it. */
  peerCaCert?: string;
  /** `--ssl-protocols=PROTOCOLS`: the TLS versions to enable, e.g. `TLSv1.2,TLSv1.3`. Default: all from TLSv1. */
  protocols?: string;
  /** `--ssl-ciphers=CIPHERS`: OpenSSL cipher string for TLS 1.2 and older. Default `HIGH:!aNULL:!MD5`. */
  ciphers?: string;
}

export class SslConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SslConfigError';
  }
}

/**
 * What is missing from `ssl` for an SSL connection, in ovsdb-server's words
 * (empty when the keys, certificate and a CA are configured). Files are read
 * only when connecting.
 */
export function missingSslConfig(ssl: SslOptions): string[] {
  const out: string[] = [];
  if (ssl.privateKey === undefined) out.push('Private key must be configured to use SSL');
  if (ssl.certificate === undefined) out.push('Certificate must be configured to use SSL');
  if (ssl.caCert === undefined && ssl.bootstrapCaCert === undefined) out.push('CA certificate must be configured to use SSL');
  return out;
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new SslConfigError(
      `${file}: could not read ${what} (${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message})`,
    );
  }
}

/** Our key and certificate chain (certificate, then the peer CA cert if configured). */
function identity(ssl: SslOptions): { key: Buffer; cert: Buffer } {
  if (ssl.privateKey === undefined) throw new SslConfigError('Private key must be configured to use SSL');
  if (ssl.certificate === undefined) throw new SslConfigError('Certificate must be configured to use SSL');
  const key = readPem(ssl.privateKey, 'private key');
  let cert = readPem(ssl.certificate, 'certificate');
  if (ssl.peerCaCert !== undefined) cert = Buffer.concat([cert, Buffer.from('\n'), readPem(ssl.peerCaCert, 'peer CA certificate')]);
  return { key, cert };
}

/** The CA certificate to verify peers with, or undefined while a bootstrap CA file does not exist yet. */
function trustAnchor(ssl: SslOptions): Buffer | undefined {
  if (ssl.caCert !== undefined) return readPem(ssl.caCert, 'CA certificate');
  if (ssl.bootstrapCaCert !== undefined)
    return existsSync(ssl.bootstrapCaCert) ? readPem(ssl.bootstrapCaCert, 'CA certificate') : undefined;
  throw new SslConfigError('CA certificate must be configured to use SSL');
}

/** A listener's key, certificate chain, CA, protocols and ciphers, read from the files now. */
function serverContext(ssl: SslOptions, logError: (msg: string) => void): SecureContextOptions {
  const { key, cert } = identity(ssl);
  const ca = trustAnchor(ssl);
  if (ca === undefined)
    throw new SslConfigError(`${ssl.bootstrapCaCert ?? ''}: CA certificate file does not exist (a server cannot bootstrap its CA)`);
  return { key, cert, ca, ...tlsPolicy(ssl.protocols, ssl.ciphers, logError) };
}

/** What identifies the settings and the files' contents: names, and each file's mtime, size and inode. */
function settingsStamp(ssl: SslOptions): string {
  const files = [ssl.privateKey, ssl.certificate, ssl.caCert ?? ssl.bootstrapCaCert, ssl.peerCaCert].map((file) => {
    if (file === undefined) return null;
    try {
      const st = statSync(file, { bigint: true });
      return [file, String(st.mtimeNs), String(st.size), String(st.ino)];
    } catch {
      return [file];
    }
  });
  return JSON.stringify([files, ssl.protocols ?? null, ssl.ciphers ?? null]);
}

/** The smallest time between two looks at the files, as OVS's stream-ssl waits between its checks. */
const RECHECK_MS = 1000;

/**
 * A `pssl:` listener that follows its settings: asked again (and the files
 * looked at) at most once a second when a connection arrives, and at once
 * on {@link SslListener.reload}.
 */
class SslListener extends TlsServer {
  private stamp: string;
  private checkedAt = Date.now();

  constructor(
    private readonly settings: () => SslOptions,
    private readonly logError: (msg: string) => void,
    onSocket: (sock: Socket) => void,
  ) {
    const ssl = settings();
    super({ ...serverContext(ssl, logError), requestCert: true, rejectUnauthorized: true }, (sock) => onSocket(sock));
    this.stamp = settingsStamp(ssl);
    // Before Node's own 'connection' listener, which starts the handshake with the context set now.
    this.prependListener('connection', () => this.recheck());
  }

  /** Takes the settings and files as they are now; throws (keeping the old ones) when they cannot be used. */
  reload(): void {
    this.checkedAt = Date.now();
    const ssl = this.settings();
    const stamp = settingsStamp(ssl);
    this.setSecureContext(serverContext(ssl, this.logError));
    this.stamp = stamp;
  }

  private recheck(): void {
    const now = Date.now();
    if (now - this.checkedAt < RECHECK_MS) return;
    this.checkedAt = now;
    if (settingsStamp(this.settings()) === this.stamp) return;
    try {
      this.reload();
    } catch (e) {
      // A key replaced before its certificate, say: keep serving with the old ones and look again later.
      this.logError((e as Error).message);
    }
  }
}

/**
 * Gives a `pssl:` listener its SSL settings as they are now (the files read
 * now), for the connections it accepts from now on; those already open keep
 * theirs. Throws, keeping the old ones, when they cannot be used. Does
 * nothing to a listener that is not an SSL one.
 */
export function reloadSslListener(server: Server): void {
  if (server instanceof SslListener) server.reload();
}

/**
 * Listens for SSL connections; a client whose certificate the CA did not sign
 * is refused in the handshake. `ssl` is asked again when the listener looks
 * for changes; `onRefused` gets refused handshakes, `logError` bad settings.
 */
export function listenSsl(
  port: number,
  host: string,
  ssl: () => SslOptions,
  onSocket: (sock: Socket) => void,
  onRefused: (msg: string) => void,
  logError: (msg: string) => void = onRefused,
): Promise<Server> {
  const server = new SslListener(ssl, logError, onSocket);
  server.on('tlsClientError', (e: Error, sock: TLSSocket) =>
    onRefused(`${sock.remoteAddress ?? '?'}:${sock.remotePort ?? '?'}: SSL handshake failed (${e.message})`),
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** Connects over SSL, verifying the server's certificate against the CA (learning the CA first when bootstrapping). */
export async function connectSsl(host: string, port: number, ssl: SslOptions, log: (msg: string) => void = () => {}): Promise<Socket> {
  const { key, cert } = identity(ssl);
  const ca = trustAnchor(ssl);
  const policy = tlsPolicy(ssl.protocols, ssl.ciphers, log);
  if (ca === undefined) {
    await bootstrapCa(host, port, { key, cert, ...policy }, ssl.bootstrapCaCert as string, log);
    return connectSsl(host, port, ssl, log);
  }
  return handshake({ host, port, key, cert, ca, ...policy, rejectUnauthorized: true, checkServerIdentity: () => undefined });
}

function handshake(opts: ConnectionOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const sock = tlsConnect(opts);
    const onError = (e: Error): void => {
      sock.destroy();
      reject(e);
    };
    sock.once('error', onError);
    sock.once('secureConnect', () => {
      sock.off('error', onError);
      sock.setNoDelay(true);
      resolve(sock);
    });
  });
}

/** Takes the self-signed certificate at the top of the server's chain as the CA and saves it to `file`. */
async function bootstrapCa(host: string, port: number, own: ConnectionOptions, file: string, log: (msg: string) => void): Promise<void> {
  const sock = await handshake({ host, port, ...own, rejectUnauthorized: false, checkServerIdentity: () => undefined });
  try {
    let c: PeerCertificate | undefined = sock.getPeerCertificate(true);
    const seen = new Set<string>();
    while (c !== undefined && c.raw !== undefined && !seen.has(c.fingerprint256)) {
      seen.add(c.fingerprint256);
      const issuer: PeerCertificate | undefined = (c as { issuerCertificate?: PeerCertificate }).issuerCertificate;
      if (issuer === undefined || issuer.fingerprint256 === c.fingerprint256) break;
      c = issuer;
    }
    if (c === undefined || c.raw === undefined || c.subject === undefined || JSON.stringify(c.subject) !== JSON.stringify(c.issuer)) {
      throw new SslConfigError(
        `${host}:${port}: the server's certificate chain has no self-signed CA certificate to bootstrap from (the server must send it, e.g. with --peer-ca-cert)`,
      );
    }
    const pem = `-----BEGIN CERTIFICATE-----\n${c.raw.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
    const tmp = `${file}.tmp${process.pid}`;
    writeFileSync(tmp, pem, { mode: 0o444 });
    renameSync(tmp, file);
    log(`Trusting CA cert from ${host}:${port} (${subjectLine(c)}) (fingerprint ${c.fingerprint})`);
  } finally {
    sock.destroy();
  }
}

function subjectLine(c: PeerCertificate): string {
  return Object.entries(c.subject)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
}
