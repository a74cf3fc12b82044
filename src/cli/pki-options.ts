/**
 * The "PKI configuration" and "SSL options" of ovsdb-server(1), ovn-northd(8),
 * ovn-controller(8) and ovn-trace(8) as option-table rows; the parsing of
 * each value is src/ovsdb/ssl-options.ts's.
 */
import type { SslOptions } from '../ovsdb/remote.js';
import { parseSslOption } from '../ovsdb/ssl-options.js';
import type { OptionSpec } from './options.js';

const PKI = 'PKI configuration (required to use SSL)';
const SSL = 'SSL options';

type Row = readonly [name: string, short: string | undefined, metavar: string, help: string, section: string];
const ROWS: readonly Row[] = [
  ['private-key', 'p', 'FILE', 'file with private key (for ssl: and pssl: remotes)', PKI],
  ['certificate', 'c', 'FILE', 'file with certificate for private key', PKI],
  ['ca-cert', 'C', 'FILE', 'file with peer CA certificate', PKI],
  ['bootstrap-ca-cert', undefined, 'FILE', 'file with peer CA certificate to read or create', PKI],
  ['peer-ca-cert', undefined, 'FILE', 'file with extra CA certificate to send to the peer', PKI],
  ['ssl-protocols', undefined, 'PROTOS', 'list of SSL protocols to enable', SSL],
  ['ssl-ciphers', undefined, 'CIPHERS', 'list of SSL ciphers to enable', SSL],
];

export function pkiOptions<O extends { ssl: SslOptions }>(): OptionSpec<O>[] {
  return ROWS.map(([name, short, metavar, help, section]) => ({
    name,
    ...(short === undefined ? {} : { short }),
    arg: 'required' as const,
    metavar,
    help,
    section,
    set: (o: O, v: string | undefined) => void parseSslOption(o.ssl, `--${name}`, () => v ?? ''),
  }));
}
