/**
 * OVSDB over SSL (ovsdb-server(1) "pssl:", the tools' "ssl:" and
 * -p/-c/-C/--bootstrap-ca-cert): the real ovsdb-client and ovn-nbctl against
 * `ovnts ovsdb-server`, `ovnts nbctl` and `ovnts northd` against the real
 * ovsdb-server, certificates the CA did not sign refused both ways, and the
 * client-side CA bootstrap. Certificates are made here with the openssl CLI.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { run, runOk, spawnDaemon, waitFor, cleanupAll } from '../helpers/proc.js';
import { OVNTS } from '../helpers/ovsdb-servers.js';
import { freePort } from '../helpers/neutron-server.js';
import { Pki, startDbSslNb, startSslDb, switchNames, type SslDb as Db } from '../helpers/tls-pki.js';

after(cleanupAll);

const pki = new Pki();
const f = (name: string): string => pki.file(name);
const sslArgs = (key: string, ca: string): string[] => pki.args(key, ca);
const startDb = (kind: 'real' | 'ovnts', extra: readonly string[] = []): Promise<Db> => startSslDb(pki, kind, extra);

let ovnts: Db;
let real: Db;
before(async () => {
  await pki.make('ca', ['server', 'client']);
  await pki.make('rogue-ca', ['rogue']);
  [ovnts, real] = await Promise.all([
    startDb('ovnts', [`--peer-ca-cert=${f('ca.pem')}`]),
    startDb('real', [`--peer-ca-cert=${f('ca.pem')}`]),
  ]);
});

test('the real ovsdb-client and ovn-nbctl work against ovnts ovsdb-server over SSL', async () => {
  const dbs = await runOk('ovsdb-client', [...sslArgs('client', 'ca'), 'list-dbs', ovnts.ssl], { check: true });
  assert.deepEqual(dbs.trim().split('\n').sort(), ['OVN_Northbound', 'OVN_Southbound', '_Server']);
  await runOk('ovn-nbctl', [`--db=${ovnts.ssl}`, ...sslArgs('client', 'ca'), 'ls-add', 'tls-sw0', '--', 'lsp-add', 'tls-sw0', 'tls-p0'], {
    check: true,
  });
  const show = await runOk('ovn-nbctl', [`--db=${ovnts.ssl}`, '-p', f('client.key'), '-c', f('client.pem'), '-C', f('ca.pem'), 'show'], {
    check: true,
  });
  assert.match(show, /switch .* \(tls-sw0\)\n\s+port tls-p0/);
  assert.deepEqual(await switchNames(ovnts.unix), ['tls-sw0']);
});

test('ovnts nbctl and northd work against the real ovsdb-server over SSL', async () => {
  await runOk(OVNTS, ['nbctl', `--db=${real.ssl}`, ...sslArgs('client', 'ca'), 'ls-add', 'tls-sw1', '--', 'lsp-add', 'tls-sw1', 'tls-p1'], {
    check: true,
  });
  const show = await runOk(OVNTS, ['nbctl', `--db=${real.ssl}`, '-p', f('client.key'), '-c', f('client.pem'), '-C', f('ca.pem'), 'show'], {
    check: true,
  });
  assert.match(show, /switch .* \(tls-sw1\)\n\s+port tls-p1/);
  assert.deepEqual(await switchNames(real.unix), ['tls-sw1']);
  // northd over SSL to both databases: the port's binding appears in the real SB.
  const northd = await spawnDaemon(
    OVNTS,
    ['northd', `--ovnnb-db=${real.ssl}`, `--ovnsb-db=${real.ssl}`, ...sslArgs('client', 'ca'), `--unixctl=${f('northd.ctl')}`],
    { name: 'ovnts-northd' },
  );
  try {
    await waitFor(
      async () =>
        (
          await runOk('ovn-sbctl', [
            `--db=${real.ssl}`,
            ...sslArgs('client', 'ca'),
            '--bare',
            '--columns=logical_port',
            'list',
            'Port_Binding',
          ])
        ).includes('tls-p1'),
      {
        what: 'Port_Binding tls-p1 in the real SB',
      },
    );
    // ovnts trace reads that SB over SSL too.
    const trace = await run(
      OVNTS,
      [
        'trace',
        `--db=${real.ssl}`,
        ...sslArgs('client', 'ca'),
        '--minimal',
        'tls-sw1',
        'inport == "tls-p1" && eth.src == 00:00:00:00:00:01 && eth.dst == ff:ff:ff:ff:ff:ff',
      ],
      { timeoutMs: 20000 },
    );
    assert.equal(trace.code, 0, trace.stderr);
  } finally {
    await northd.stop();
  }
});

test('a client whose certificate the CA did not sign is refused, by ovnts and by the real server', async () => {
  for (const db of [ovnts, real]) {
    const r = await run('ovsdb-client', ['--timeout=3', ...sslArgs('rogue', 'ca'), 'list-dbs', db.ssl], { timeoutMs: 15000 });
    assert.notEqual(r.code, 0, `${db.daemon.name} accepted a rogue certificate: ${r.stdout}`);
    const n = await run(OVNTS, ['nbctl', '--timeout=3', `--db=${db.ssl}`, ...sslArgs('rogue', 'ca'), 'ls-add', 'rogue-sw'], {
      timeoutMs: 15000,
    });
    assert.notEqual(n.code, 0, `${db.daemon.name} accepted ovnts nbctl with a rogue certificate`);
    assert.ok(!(await switchNames(db.unix)).includes('rogue-sw'));
  }
  // ovnts keeps serving after refusing it.
  await runOk('ovsdb-client', [...sslArgs('client', 'ca'), 'list-dbs', ovnts.ssl], { check: true });
});

test('a server whose certificate the client CA did not sign is refused, by ovnts nbctl and by the real ovn-nbctl', async () => {
  // The client trusts only the rogue CA; both servers' certificates come from the real one.
  for (const db of [ovnts, real]) {
    const n = await run(OVNTS, ['nbctl', '--timeout=3', `--db=${db.ssl}`, ...sslArgs('rogue', 'rogue-ca'), 'ls-add', 'wrong-ca-sw'], {
      timeoutMs: 15000,
    });
    assert.notEqual(n.code, 0, `ovnts nbctl trusted ${db.daemon.name} signed by another CA`);
    const r = await run('ovn-nbctl', ['--timeout=3', `--db=${db.ssl}`, ...sslArgs('rogue', 'rogue-ca'), 'ls-add', 'wrong-ca-sw'], {
      timeoutMs: 15000,
    });
    assert.notEqual(r.code, 0);
    assert.ok(!(await switchNames(db.unix)).includes('wrong-ca-sw'));
  }
});

test('--bootstrap-ca-cert: a missing CA file is learnt from the server, then used (ovnts nbctl and the real ovn-nbctl)', async () => {
  const caDer = new X509Certificate(readFileSync(f('ca.pem'))).raw;
  // ovnts nbctl against the real server, and the real ovn-nbctl against ovnts.
  const cases: Array<[string, string[], Db]> = [
    [OVNTS, ['nbctl'], real],
    ['ovn-nbctl', [], ovnts],
  ];
  for (const [i, [cmd, pre, db]] of cases.entries()) {
    const file = f(`bootstrap-${i}.pem`);
    assert.ok(!existsSync(file));
    const args = [
      ...pre,
      '--timeout=20',
      `--db=${db.ssl}`,
      `--private-key=${f('client.key')}`,
      `--certificate=${f('client.pem')}`,
      `--bootstrap-ca-cert=${file}`,
    ];
    const first = await run(cmd, [...args, 'ls-add', `boot-${i}`], { timeoutMs: 30000 });
    if (cmd === OVNTS) {
      // ovnts connects again at once with the CA it saved.
      assert.equal(first.code, 0, first.stderr);
    } else {
      // The real tool drops the connection that bootstrapped the CA ("Protocol error"); the next run uses it.
      assert.match(first.stderr, /Protocol error/);
      await runOk(cmd, [...args, 'ls-add', `boot-${i}`], { check: true, timeoutMs: 30000 });
    }
    assert.ok(existsSync(file), `${cmd} wrote no CA file`);
    assert.deepEqual(new X509Certificate(readFileSync(file)).raw, caDer, `${cmd} saved another certificate than the CA`);
    assert.equal(statSync(file).mode & 0o777, 0o444);
    // Now the file exists and is the trust anchor.
    await runOk(cmd, [...args, 'ls-add', `boot-${i}-again`], { check: true, timeoutMs: 30000 });
    const names = await switchNames(db.unix);
    assert.ok(names.includes(`boot-${i}`) && names.includes(`boot-${i}-again`), names.join(' '));
  }
});

test("an ssl: remote without a key, certificate or CA fails at once with the real ovn-nbctl's words", async () => {
  const last = (s: string): string => s.trim().split('\n').at(-1) ?? '';
  const args = [`--db=${ovnts.ssl}`, '--timeout=5', 'show'];
  const [mine, theirs] = await Promise.all([run(OVNTS, ['nbctl', ...args]), run('ovn-nbctl', args)]);
  assert.equal(mine.code, 1);
  assert.equal(theirs.code, 1);
  assert.equal(last(mine.stderr), last(theirs.stderr));
  for (const m of [
    'Private key must be configured to use SSL',
    'Certificate must be configured to use SSL',
    'CA certificate must be configured to use SSL',
  ])
    assert.ok(mine.stderr.includes(m), m);
});

test('SSL settings read from the database (--private-key=db:...), as OVN runs its NB: the real ovsdb-client over SSL, ovnts and the real server alike', async () => {
  const outcomes: string[][] = [];
  for (const kind of ['real', 'ovnts'] as const) {
    const { daemon, nbctl } = await startDbSslNb(kind, 'dbssl');
    try {
      await nbctl('init');
      await nbctl('set-ssl', f('server.key'), f('server.pem'), f('ca.pem'));
      const port = await freePort();
      await nbctl('set-connection', `pssl:${port}:127.0.0.1`);
      const ssl = `ssl:127.0.0.1:${port}`;
      await waitFor(async () => (await run('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`])).code === 0, {
        what: `${kind} pssl port`,
      });
      const listDbs = async (ca: string): Promise<string> => {
        const r = await run('ovsdb-client', ['--timeout=5', ...sslArgs('client', ca), 'list-dbs', ssl], { timeoutMs: 15000 });
        return r.code === 0 ? r.stdout.trim().split('\n').sort().join(',') : 'refused';
      };
      const seen = [await listDbs('ca'), await listDbs('rogue-ca')];
      // The server's certificate changes in the database: it presents the new one to the next clients.
      await nbctl('set-ssl', f('rogue.key'), f('rogue.pem'), f('ca.pem'));
      await waitFor(async () => (await listDbs('rogue-ca')) !== 'refused', { what: `${kind} serving the new certificate` });
      seen.push(await listDbs('ca'), await listDbs('rogue-ca'));
      outcomes.push(seen);
    } finally {
      await daemon.stop();
    }
  }
  assert.deepEqual(outcomes[0], ['OVN_Northbound,_Server', 'refused', 'refused', 'OVN_Northbound,_Server']);
  assert.deepEqual(outcomes[1], outcomes[0]);
});
