/**
 * `--ssl-protocols=PROTOCOLS` and `--ssl-ciphers=CIPHERS` (ovsdb-server(1),
 * ovn-nbctl(8), ovn-northd(8)...): which TLS versions and TLS 1.2-and-older
 * cipher suites an SSL connection may use, turned into Node's secure-context
 * settings.
 *
 * As in Open vSwitch 3.1: without the option every version from TLSv1 up is
 * enabled and the ciphers are `HIGH:!aNULL:!MD5`. A protocol list enables only
 * the versions it names (TLSv1.3 included only when named; 3.1 itself does not
 * know the name and logs it as not recognized, later OVS releases accept it,
 * as ovnts does). A bad protocol list is logged in OVS's words and leaves the
 * defaults. A cipher string that matches no cipher is logged as OpenSSL's
 * SSL_CTX_set_cipher_list error and, as there, leaves TLS 1.2 and older with
 * no cipher at all (TLS 1.3 still works: its suites are not set by this
 * option).
 */
import { constants } from 'node:crypto';
import { DEFAULT_CIPHERS, createSecureContext } from 'node:tls';

/** OVS's cipher string when `--ssl-ciphers` is not given. */
export const OVS_DEFAULT_CIPHERS = 'HIGH:!aNULL:!MD5';

const PROTOCOL_OFF: Record<string, number> = {
  tlsv1: constants.SSL_OP_NO_TLSv1,
  'tlsv1.1': constants.SSL_OP_NO_TLSv1_1,
  'tlsv1.2': constants.SSL_OP_NO_TLSv1_2,
  'tlsv1.3': constants.SSL_OP_NO_TLSv1_3,
};
const ALL_OFF = Object.values(PROTOCOL_OFF).reduce((a, b) => a | b, 0);
const ALWAYS_OFF = constants.SSL_OP_NO_SSLv2 | constants.SSL_OP_NO_SSLv3;

/** OpenSSL's text for a cipher string that selects nothing (what Node reports for one). */
const NO_CIPHER_MATCH = 'error:0A0000B9:SSL routines::no cipher match';

/** The TLS 1.3 suites OpenSSL enables by default; `--ssl-ciphers` leaves them alone, as OpenSSL's cipher list does. */
const TLS13_SUITES = DEFAULT_CIPHERS.split(':')
  .filter((c) => c.startsWith('TLS_'))
  .join(':');

/** Node secure-context settings for the protocols and ciphers. */
export interface TlsPolicy {
  readonly minVersion: 'TLSv1';
  readonly secureOptions: number;
  readonly ciphers: string;
}

/**
 * The policy for `protocols` and `ciphers` (undefined: OVS's defaults);
 * `logError` gets each bad setting in OVS's words (stream_ssl's ERR lines).
 */
export function tlsPolicy(protocols: string | undefined, ciphers: string | undefined, logError: (msg: string) => void): TlsPolicy {
  return {
    minVersion: 'TLSv1',
    secureOptions: ALWAYS_OFF | protocolsOff(protocols, logError),
    ciphers: cipherList(ciphers, logError),
  };
}

/** The versions to turn off: none by default, else all but those listed ("TLSv1.2,TLSv1.3" or space-separated). */
function protocolsOff(protocols: string | undefined, logError: (msg: string) => void): number {
  if (protocols === undefined) return 0;
  const words = protocols.split(/[ ,\t]+/).filter((w) => w !== '');
  if (words.length === 0) {
    logError('SSL protocol settings invalid');
    return 0;
  }
  let off = ALL_OFF;
  for (const w of words) {
    const flag = PROTOCOL_OFF[w.toLowerCase()];
    if (flag === undefined) {
      logError(`${w}: SSL protocol not recognized`);
      return 0;
    }
    off &= ~flag;
  }
  return off;
}

/**
 * Node's `ciphers` value: the OpenSSL cipher string for TLS 1.2 and older,
 * then the TLS 1.3 suites. Node would take TLS 1.3 names in the string as
 * the TLS 1.3 suites; OpenSSL's cipher list ignores them, so they are
 * dropped here.
 */
function cipherList(ciphers: string | undefined, logError: (msg: string) => void): string {
  const given = (ciphers ?? OVS_DEFAULT_CIPHERS)
    .split(/[:, ;]+/)
    .filter((c) => c !== '' && !c.startsWith('TLS_'))
    .join(':');
  if (given === '') {
    logError(`SSL_CTX_set_cipher_list: ${NO_CIPHER_MATCH}`);
    return TLS13_SUITES;
  }
  const error = cipherError(given);
  if (error !== undefined) {
    logError(`SSL_CTX_set_cipher_list: ${error}`);
    return TLS13_SUITES;
  }
  return `${given}:${TLS13_SUITES}`;
}

/** OpenSSL's complaint about a cipher string, or undefined when it selects some cipher. */
function cipherError(list: string): string | undefined {
  try {
    // Making a context is what checks the string; the context is thrown away.
    createSecureContext({ ciphers: list });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
