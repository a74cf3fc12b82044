/**
 * The SSL command-line options as the OVS and OVN tools spell them, and the
 * ssl:/pssl: remote syntax (ovsdb-server(1), ovn-nbctl(8)).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSslOption, sslField } from '../../src/ovsdb/ssl-options.js';
import { formatRemote, missingSslConfig, parseRemote, type SslOptions } from '../../src/ovsdb/remote.js';

test('long, short, attached and next-word forms all set the same fields', () => {
  const ssl: SslOptions = {};
  const words = ['next.pem'];
  const next = (): string => words.shift() ?? assert.fail('no argument');
  assert.ok(parseSslOption(ssl, '--private-key', () => 'k.pem'));
  assert.ok(parseSslOption(ssl, '-c', next));
  assert.ok(parseSslOption(ssl, '-Cca.pem', next));
  assert.ok(parseSslOption(ssl, '--bootstrap-ca-cert', () => 'boot.pem'));
  assert.ok(parseSslOption(ssl, '--peer-ca-cert', () => 'peer.pem'));
  assert.ok(!parseSslOption(ssl, '--db', next));
  assert.ok(!parseSslOption(ssl, '-d', next));
  assert.deepEqual(ssl, {
    privateKey: 'k.pem',
    certificate: 'next.pem',
    caCert: 'ca.pem',
    bootstrapCaCert: 'boot.pem',
    peerCaCert: 'peer.pem',
  });
  assert.deepEqual(sslField({}), {});
  assert.deepEqual(missingSslConfig(ssl), []);
  assert.deepEqual(missingSslConfig({ privateKey: 'k' }), [
    'Certificate must be configured to use SSL',
    'CA certificate must be configured to use SSL',
  ]);
  assert.deepEqual(missingSslConfig({ privateKey: 'k', certificate: 'c', bootstrapCaCert: 'b' }), []);
});

test('ssl: and pssl: remotes parse like tcp: and ptcp:', () => {
  assert.deepEqual(parseRemote('ssl:192.0.2.1:6641'), { kind: 'ssl', host: '192.0.2.1', port: 6641 });
  assert.deepEqual(parseRemote('ssl:[::1]'), { kind: 'ssl', host: '::1', port: 6640 });
  assert.deepEqual(parseRemote('pssl:6642'), { kind: 'pssl', port: 6642, host: '0.0.0.0' });
  assert.deepEqual(parseRemote('pssl:6642:127.0.0.1'), { kind: 'pssl', port: 6642, host: '127.0.0.1' });
  assert.equal(formatRemote(parseRemote('pssl:0:::1')), 'pssl:0:[::1]');
  assert.throws(() => parseRemote('ssl:192.0.2.1:99999'), /bad port number/);
});
