/**
 * `ovnts ipam` against the real neutron-server (Zed, ML2/OVN on real NB/SB and
 * ovn-northd): the same corpus of `openstack` and `neutron` CLI commands
 * (test/helpers/ipam-corpus.ts) runs against each; every step must give the
 * same exit code and the same normalised stdout and stderr, and the NB each
 * server leaves must hold the same rows at each checkpoint.
 *
 * IPAM_DIFF_OUT=DIR writes both transcripts there (real.json, ovnts.json) for
 * reading a difference side by side.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCorpus, type Transcript } from '../helpers/ipam-corpus.js';
import { startOvntsIpam, startRealNeutron, type NeutronHandle } from '../helpers/neutron-server.js';
import { cleanupAll } from '../helpers/proc.js';

let real: NeutronHandle | undefined;
let ovnts: NeutronHandle | undefined;
let transcripts: { real: Transcript; ovnts: Transcript } | undefined;

before(async () => {
  [real, ovnts] = await Promise.all([startRealNeutron(), startOvntsIpam()]);
  // One pass each, side by side: the real server's CLI calls dominate the time.
  const [r, o] = await Promise.all([runCorpus(real), runCorpus(ovnts)]);
  transcripts = { real: r, ovnts: o };
  const dir = process.env.IPAM_DIFF_OUT;
  if (dir) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'real.json'), JSON.stringify(r, null, 1));
    writeFileSync(join(dir, 'ovnts.json'), JSON.stringify(o, null, 1));
  }
});

after(async () => {
  await Promise.all([real?.stop(), ovnts?.stop()]);
  await cleanupAll();
});

function pairs(): [Transcript[number], Transcript[number]][] {
  if (!transcripts) throw new Error('corpus did not run');
  assert.equal(transcripts.ovnts.length, transcripts.real.length);
  return transcripts.real.map((r, i) => [r, transcripts?.ovnts[i] ?? r]);
}

test('every CLI command: same exit code, stdout and stderr as real Neutron', () => {
  const diffs: string[] = [];
  for (const [r, o] of pairs()) {
    if ('checkpoint' in r) continue;
    try {
      assert.deepEqual(o, r);
    } catch (e) {
      diffs.push(`${r.command}\n${(e as Error).message}`);
    }
  }
  assert.deepEqual(diffs, [], `${diffs.length} commands differ:\n\n${diffs.join('\n\n')}`);
});

test('the NB rows each server leaves are the same at every checkpoint', () => {
  const diffs: string[] = [];
  for (const [r, o] of pairs()) {
    if (!('checkpoint' in r) || !('checkpoint' in o)) continue;
    for (const table of Object.keys(r.nb)) {
      try {
        assert.deepEqual(o.nb[table], r.nb[table]);
      } catch (e) {
        diffs.push(`${r.checkpoint}: ${table}\n${(e as Error).message}`);
      }
    }
  }
  assert.deepEqual(diffs, [], `${diffs.length} tables differ:\n\n${diffs.join('\n\n')}`);
});
