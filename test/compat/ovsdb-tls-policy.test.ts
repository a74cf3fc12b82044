/**
 * `--ssl-protocols` and `--ssl-ciphers` (ovsdb-server(1) "SSL options", and
 * the same options of the clients), from the command line and from the SSL
 * table's ssl_protocols/ssl_ciphers columns, and a key, certificate or CA
 * file replaced under the same name: each run the same way against the real
 * ovsdb-server 3.1 and `ovnts ovsdb-server`, with the same outcome asked of
 * both. Handshakes are probed with `openssl s_client` limited to one TLS
 * version or one cipher, and with the real ovsdb-client/ovn-nbctl and ovnts
 * nbctl given their own --ssl-protocols/--ssl-ciphers.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { run, runOk, spawnDaemon, waitFor, cleanupAll } from '../helpers/proc.js';
import { OVNTS } from '../helpers/ovsdb-servers.js';
import { freePort } from '../helpers/neutron-server.js';
import { Pki, startDbSslNb, startSslDb, type SslDb } from '../helpers/tls-pki.js';

after(cleanupAll);

const pki = new Pki();
const KINDS = ['real', 'ovnts'] as const;
const AES128 = 'ECDHE-ECDSA-AES128-GCM-SHA256';
const CHACHA = 'ECDHE-ECDSA-CHACHA20-POLY1305';

before(async () => {
  await pki.make('ca', ['server', 'client']);
  await pki.make('rogue-ca', ['rogue']);
});

/**
 * What `openssl s_client` limited to TLS `version` (and `cipher`) gets from
 * the server at `port`, with the good client certificate: "TLSv1.2
 * ECDHE-..." or "refused".
 */
async function probe(port: number, version: 'tls1_2' | 'tls1_3', cipher?: string): Promise<string> {
  const args = ['s_client', '-brief', `-${version}`, '-connect', `127.0.0.1:${port}`];
  args.push('-cert', pki.file('client.pem'), '-key', pki.file('client.key'), '-CAfile', pki.file('ca.pem'));
  if (cipher !== undefined) args.push('-cipher', cipher);
  const r = await run('openssl', args, { timeoutMs: 10000 });
  const out = r.stdout + r.stderr;
  const proto = /Protocol version: (\S+)/.exec(out)?.[1];
  const suite = /Ciphersuite: (\S+)/.exec(out)?.[1];
  return proto === undefined || suite === undefined ? 'refused' : `${proto} ${suite}`;
}

/** Whether `cmd` (`ovsdb-client list-dbs`-like) succeeds against `db` with the extra options. */
async function accepted(cmd: string, pre: readonly string[], args: readonly string[]): Promise<boolean> {
  const r = await run(cmd, [...pre, ...args], { timeoutMs: 15000 });
  return r.code === 0;
}

/** The probes every protocol/cipher case looks at, as one record to compare between the servers. */
async function handshakes(db: SslDb): Promise<Record<string, string | boolean>> {
  const good = pki.args('client', 'ca');
  return {
    tls12: await probe(db.port, 'tls1_2'),
    tls13: await probe(db.port, 'tls1_3'),
    tls12Aes128: await probe(db.port, 'tls1_2', AES128),
    tls12Chacha: await probe(db.port, 'tls1_2', CHACHA),
    // The real ovsdb-client with its own --ssl-protocols/--ssl-ciphers (the real
    // ovn-nbctl 23.03 aborts when given --ssl-protocols, so it cannot be asked).
    ovsdbClient12: await accepted('ovsdb-client', ['--timeout=5', ...good, '--ssl-protocols=TLSv1.2'], ['list-dbs', db.ssl]),
    ovsdbClientChacha: await accepted(
      'ovsdb-client',
      ['--timeout=5', ...good, '--ssl-protocols=TLSv1.2', `--ssl-ciphers=${CHACHA}`],
      ['list-dbs', db.ssl],
    ),
    // ovnts nbctl likewise; it also knows TLSv1.3 as a name (OVS 3.1 does not).
    ovntsNbctl12: await accepted(OVNTS, ['nbctl', '--timeout=5', `--db=${db.ssl}`, ...good, '--ssl-protocols=TLSv1.2'], ['show']),
    ovntsNbctl13: await accepted(OVNTS, ['nbctl', '--timeout=5', `--db=${db.ssl}`, ...good, '--ssl-protocols=TLSv1.3'], ['show']),
    ovntsNbctlChacha: await accepted(
      OVNTS,
      ['nbctl', '--timeout=5', `--db=${db.ssl}`, ...good, '--ssl-protocols=TLSv1.2', `--ssl-ciphers=${CHACHA}`],
      ['show'],
    ),
  };
}

test('--ssl-protocols=TLSv1.2 --ssl-ciphers=ONE: TLS 1.3 and other ciphers refused, by the real server and ovnts alike', async () => {
  const extra = ['--ssl-protocols=TLSv1.2', `--ssl-ciphers=${AES128}`];
  const dbs = await Promise.all(KINDS.map((k) => startSslDb(pki, k, extra)));
  const seen = [];
  for (const db of dbs) seen.push(await handshakes(db));
  assert.deepEqual(seen[0], {
    tls12: `TLSv1.2 ${AES128}`,
    tls13: 'refused',
    tls12Aes128: `TLSv1.2 ${AES128}`,
    tls12Chacha: 'refused',
    ovsdbClient12: true,
    ovsdbClientChacha: false,
    ovntsNbctl12: true,
    ovntsNbctl13: false,
    ovntsNbctlChacha: false,
  });
  assert.deepEqual(seen[1], seen[0]);
  await Promise.all(dbs.map((d) => d.daemon.stop()));
});

test('without the options every TLS version from 1.2 up and HIGH ciphers are served, by both', async () => {
  const dbs = await Promise.all(KINDS.map((k) => startSslDb(pki, k)));
  const seen = [];
  for (const db of dbs) seen.push(await handshakes(db));
  assert.match(String(seen[0]?.['tls13']), /^TLSv1\.3 /);
  assert.equal(seen[0]?.['tls12Chacha'], `TLSv1.2 ${CHACHA}`);
  assert.equal(seen[0]?.['ovsdbClientChacha'], true);
  assert.deepEqual(seen[1], seen[0]);
  await Promise.all(dbs.map((d) => d.daemon.stop()));
});

test("bad --ssl-protocols and --ssl-ciphers are logged in the real server's words, with the same outcome", async () => {
  const extra = ['--ssl-protocols=TLSv1.5', '--ssl-ciphers=BOGUS'];
  const dbs = await Promise.all(KINDS.map((k) => startSslDb(pki, k, extra)));
  const seen = [];
  for (const db of dbs) {
    const errors = readFileSync(db.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('|stream_ssl|ERR|'))
      .map((l) => l.replace(/^.*\|stream_ssl\|ERR\|/, ''));
    // The real server says it again at every reconfiguration; once is what is compared.
    seen.push({ errors: [...new Set(errors)].sort(), tls12: await probe(db.port, 'tls1_2'), tls13: await probe(db.port, 'tls1_3') });
  }
  // An unknown protocol leaves the defaults; a cipher string matching nothing leaves TLS 1.2 without any cipher (OpenSSL's doing).
  assert.deepEqual(seen[0]?.errors, [
    'SSL_CTX_set_cipher_list: error:0A0000B9:SSL routines::no cipher match',
    'TLSv1.5: SSL protocol not recognized',
  ]);
  assert.equal(seen[0]?.tls12, 'refused');
  assert.match(String(seen[0]?.tls13), /^TLSv1\.3 /);
  assert.deepEqual(seen[1], seen[0]);
  await Promise.all(dbs.map((d) => d.daemon.stop()));
});

test('ssl_protocols and ssl_ciphers read from the SSL table (--ssl-protocols=db:...), followed as they change', async () => {
  const outcomes: string[][] = [];
  for (const kind of KINDS) {
    const { daemon, nbctl } = await startDbSslNb(kind, 'policy-db', [
      '--ssl-protocols=db:OVN_Northbound,SSL,ssl_protocols',
      '--ssl-ciphers=db:OVN_Northbound,SSL,ssl_ciphers',
    ]);
    try {
      await nbctl('init');
      const keys = [pki.file('server.key'), pki.file('server.pem'), pki.file('ca.pem')];
      await nbctl('set-ssl', ...keys, 'TLSv1.2', AES128);
      const port = await freePort();
      await nbctl('set-connection', `pssl:${port}:127.0.0.1`);
      await waitFor(async () => (await probe(port, 'tls1_2')) !== 'refused', { what: `${kind} pssl port` });
      const seen = [await probe(port, 'tls1_2'), await probe(port, 'tls1_3'), await probe(port, 'tls1_2', CHACHA)];
      // The ciphers change: every HIGH one.
      await nbctl('set-ssl', ...keys, 'TLSv1.2', 'HIGH');
      await waitFor(async () => (await probe(port, 'tls1_2', CHACHA)) !== 'refused', { what: `${kind} following ssl_ciphers` });
      seen.push(await probe(port, 'tls1_3'), await probe(port, 'tls1_2', CHACHA));
      outcomes.push(seen);
    } finally {
      await daemon.stop();
    }
  }
  assert.deepEqual(outcomes[0], [`TLSv1.2 ${AES128}`, 'refused', 'refused', 'refused', `TLSv1.2 ${CHACHA}`]);
  assert.deepEqual(outcomes[1], outcomes[0]);
});

test('a key, certificate or CA file replaced under the same name is used for the next connections, by both servers', async () => {
  const outcomes: boolean[][] = [];
  for (const kind of KINDS) {
    // The server's own copies, replaced in place below.
    const own = (name: string): string => pki.file(`${kind}-own-${name}`);
    copyFileSync(pki.file('server.key'), own('key'));
    copyFileSync(pki.file('server.pem'), own('cert'));
    copyFileSync(pki.file('ca.pem'), own('ca'));
    const db = await startSslDb(pki, kind, [`--private-key=${own('key')}`, `--certificate=${own('cert')}`, `--ca-cert=${own('ca')}`]);
    const listDbs = (key: string, ca: string): Promise<boolean> =>
      accepted('ovsdb-client', ['--timeout=5', ...pki.args(key, ca)], ['list-dbs', db.ssl]);
    const seen = [await listDbs('client', 'ca'), await listDbs('client', 'rogue-ca')];
    // A certificate from another CA, written over the old files (same names, same inodes).
    copyFileSync(pki.file('rogue.key'), own('key'));
    copyFileSync(pki.file('rogue.pem'), own('cert'));
    await waitFor(() => listDbs('client', 'rogue-ca'), { what: `${kind} presenting the replaced certificate`, timeoutMs: 20000 });
    seen.push(await listDbs('client', 'ca'));
    // The CA file replaced: clients with the rogue CA's certificates are let in, the old CA's no more.
    seen.push(await listDbs('rogue', 'rogue-ca'));
    copyFileSync(pki.file('rogue-ca.pem'), own('ca'));
    await waitFor(() => listDbs('rogue', 'rogue-ca'), { what: `${kind} trusting the replaced CA`, timeoutMs: 20000 });
    seen.push(await listDbs('client', 'rogue-ca'));
    outcomes.push(seen);
    await db.daemon.stop();
  }
  assert.deepEqual(outcomes[0], [true, false, false, false, false]);
  assert.deepEqual(outcomes[1], outcomes[0]);
});

test('a long-running ovnts client (northd) reads replaced key, certificate and CA files when it connects again', async () => {
  const own = (name: string): string => pki.file(`northd-own-${name}`);
  copyFileSync(pki.file('server.key'), own('server-key'));
  copyFileSync(pki.file('server.pem'), own('server-cert'));
  copyFileSync(pki.file('ca.pem'), own('ca'));
  const db = await startSslDb(pki, 'real', [`--private-key=${own('server-key')}`, `--certificate=${own('server-cert')}`]);
  const northd = await spawnDaemon(
    OVNTS,
    [
      'northd',
      `--ovnnb-db=${db.ssl}`,
      `--ovnsb-db=${db.ssl}`,
      ...pki.args('client', 'ca').slice(0, 2),
      `--ca-cert=${own('ca')}`,
      `--unixctl=${pki.file('northd-own.ctl')}`,
    ],
    { name: 'ovnts-northd' },
  );
  try {
    const nbctl = (...a: string[]): Promise<string> => runOk('ovn-nbctl', [`--db=${db.unix}`, ...a], { check: true });
    const bound = async (port: string): Promise<boolean> =>
      (await runOk('ovn-sbctl', [`--db=${db.unix}`, '--bare', '--columns=logical_port', 'list', 'Port_Binding'])).includes(port);
    await nbctl('ls-add', 'renew-sw', '--', 'lsp-add', 'renew-sw', 'renew-p1');
    await waitFor(() => bound('renew-p1'), { what: 'northd binding renew-p1' });
    // The server's certificate is renewed by another CA, and northd's CA file replaced in place.
    copyFileSync(pki.file('rogue.key'), own('server-key'));
    copyFileSync(pki.file('rogue.pem'), own('server-cert'));
    copyFileSync(pki.file('rogue-ca.pem'), own('ca'));
    await waitFor(() => accepted('ovsdb-client', ['--timeout=5', ...pki.args('client', 'rogue-ca')], ['list-dbs', db.ssl]), {
      what: 'the real server presenting the renewed certificate',
    });
    // Every SSL connection dropped: northd must connect again, with the CA file as it is now.
    const remote = `pssl:${db.port}:127.0.0.1`;
    await runOk('ovs-appctl', ['-t', db.ctl, 'ovsdb-server/remove-remote', remote], { check: true });
    await runOk('ovs-appctl', ['-t', db.ctl, 'ovsdb-server/add-remote', remote], { check: true });
    await nbctl('lsp-add', 'renew-sw', 'renew-p2');
    await waitFor(() => bound('renew-p2'), { what: 'northd, reconnected, binding renew-p2', timeoutMs: 40000 });
  } finally {
    await northd.stop();
    await db.daemon.stop();
  }
});
