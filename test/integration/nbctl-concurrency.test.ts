/**
 * Concurrent writers: many `ovnts nbctl lsp-add` on the same switch at once. Each
 * invocation rewrites the switch's whole `ports` column, so without the verify
 * (`wait`) on what it read, later commits would drop the ports that earlier ones
 * added. Every port must end up in the switch, on both server kinds; and ovnts
 * nbctl fetches only what its commands read (the NB has a big table it never asks for).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bothServers, OVNTS, type ServerKind } from '../helpers/ovsdb-servers.js';
import { run, runOk } from '../helpers/proc.js';

const servers = bothServers();
const WRITERS = 12;

for (const kind of ['real', 'ovnts'] as ServerKind[]) {
  test(`${WRITERS} concurrent lsp-add on one switch keep every port (${kind} server)`, async () => {
    const db = `--db=${servers[kind].remote}`;
    const sw = `sw-${kind}`;
    await runOk('ovn-nbctl', [db, 'ls-add', sw]);
    const results = await Promise.all(
      Array.from({ length: WRITERS }, (_, i) => run(process.execPath, [OVNTS, 'nbctl', db, '--timeout=30', 'lsp-add', sw, `${sw}-p${i}`])),
    );
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const listed = (await runOk('ovn-nbctl', [db, 'lsp-list', sw])).trim().split('\n');
    assert.equal(listed.length, WRITERS, listed.join('\n'));
    for (let i = 0; i < WRITERS; i++)
      assert.ok(
        listed.some((l) => l.endsWith(`(${sw}-p${i})`)),
        `${sw}-p${i} lost`,
      );
  });

  test(`concurrent nested lsp-add with tag 0 under one parent (${kind} server)`, async () => {
    const db = `--db=${servers[kind].remote}`;
    const sw = `nest-${kind}`;
    await runOk('ovn-nbctl', [db, 'ls-add', sw, '--', 'lsp-add', sw, 'parent']);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        run(process.execPath, [OVNTS, 'nbctl', db, '--timeout=30', 'lsp-add', sw, `c${kind}${i}`, 'parent', '0']),
      ),
    );
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const parents = await Promise.all(Array.from({ length: 6 }, (_, i) => runOk('ovn-nbctl', [db, 'lsp-get-parent', `c${kind}${i}`])));
    assert.deepEqual(
      parents.map((p) => p.trim()),
      Array(6).fill('parent'),
    );
    assert.equal((await runOk('ovn-nbctl', [db, 'lsp-list', sw])).trim().split('\n').length, 7);
  });
}
