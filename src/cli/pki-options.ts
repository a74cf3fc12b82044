/**
 * The "PKI configuration" options of ovsdb-server(1), ovn-northd(8),
 * ovn-controller(8) and ovn-trace(8) as option-table rows; the parsing of
 * each value is src/ovsdb/ssl-options.ts's.
 */
import type { SslOptions } from '../ovsdb/remote.js';
import { parseSslOption } from '../ovsdb/ssl-options.js';
import type { OptionSpec } from './options.js';

const SECTION = 'PKI configuration (required to use SSL)';

const ROWS: ReadonlyArray<readonly [name: string, short: string | undefined, help: string]> = [
  ['private-key', 'p', 'file with private key (for ssl: and pssl: remotes)'],
  ['certificate', 'c', 'file with certificate for private key'],
  ['ca-cert', 'C', 'file with peer CA certificate'],
  ['bootstrap-ca-cert', undefined, 'file with peer CA certificate to read or create'],
  ['peer-ca-cert', undefined, 'file with extra CA certificate to send to the peer'],
];

export function pkiOptions<O extends { ssl: SslOptions }>(): OptionSpec<O>[] {
  return ROWS.map(([name, short, help]) => ({
    name,
    ...(short === undefined ? {} : { short }),
    arg: 'required' as const,
    metavar: 'FILE',
    help,
    section: SECTION,
    set: (o: O, v: string | undefined) => void parseSslOption(o.ssl, `--${name}`, () => v ?? ''),
  }));
}
