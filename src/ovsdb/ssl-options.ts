/**
 * The "Public Key Infrastructure Options" that ovsdb-server(1), ovn-nbctl(8),
 * ovn-northd(8), ovn-controller(8) and ovn-trace(8) take, parsed once for
 * every ovnts command: `-p`/`--private-key`, `-c`/`--certificate`,
 * `-C`/`--ca-cert`, `--bootstrap-ca-cert`, `--peer-ca-cert`, and the "SSL
 * options" `--ssl-protocols`, `--ssl-ciphers`.
 */
import type { SslOptions } from './remote.js';

export const SSL_USAGE = `  -p, --private-key=FILE  file with private key (for ssl: and pssl: remotes)
  -c, --certificate=FILE  file with certificate for private key
  -C, --ca-cert=FILE      file with peer CA certificate
  --bootstrap-ca-cert=FILE  file with peer CA certificate to read or create
  --peer-ca-cert=FILE     file with extra CA certificate to send to the peer
  --ssl-protocols=PROTOS  list of SSL protocols to enable
  --ssl-ciphers=CIPHERS   list of SSL ciphers to enable
`;

const LONG: Record<string, keyof SslOptions> = {
  '--private-key': 'privateKey',
  '--certificate': 'certificate',
  '--ca-cert': 'caCert',
  '--bootstrap-ca-cert': 'bootstrapCaCert',
  '--peer-ca-cert': 'peerCaCert',
  '--ssl-protocols': 'protocols',
  '--ssl-ciphers': 'ciphers',
};
const SHORT: Record<string, keyof SslOptions> = { '-p': 'privateKey', '-c': 'certificate', '-C': 'caCert' };

/**
 * Takes one SSL option into `ssl` and returns true, or returns false when
 * `name` (the argument up to any `=`) is not one. `value` yields the
 * option's argument (inline or the next word); a short option may also
 * carry it attached (`-pkey.pem`).
 */
export function parseSslOption(ssl: SslOptions, name: string, value: () => string): boolean {
  const long = LONG[name];
  if (long !== undefined) {
    ssl[long] = value();
    return true;
  }
  const short = SHORT[name.slice(0, 2)];
  if (short === undefined) return false;
  ssl[short] = name.length > 2 ? name.slice(2) : value();
  return true;
}

/** `{ ssl }` when any SSL option was given, else nothing (for option objects under exactOptionalPropertyTypes). */
export function sslField(ssl: SslOptions): { ssl?: SslOptions } {
  return Object.keys(ssl).length === 0 ? {} : { ssl };
}
