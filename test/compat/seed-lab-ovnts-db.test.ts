/**
 * The seed lab with the real ovn-northd and ovn-controller on real OVS, whose
 * only ovnts part is the database: `ovnts ovsdb-server` serves OVN_Northbound
 * and OVN_Southbound. vm5, c51 and c52 get their leases and every ping works.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, tmpDir } from '../helpers/proc.js';
import { LAB_HOSTS, runSeedLab, type LabResult } from '../helpers/ovn-lab.js';
import { startOvntsDatabases } from '../helpers/ovnts-lab-dbs.js';

after(cleanupAll);

test('seed lab on the ovnts database with real northd and controller: leases and pings', { timeout: 240_000 }, async (t) => {
  const dbDir = tmpDir('ovnts-lab-dbs');
  const dbs = await startOvntsDatabases(dbDir.path);
  const lines: string[] = [];
  let lab: LabResult | undefined;
  try {
    const result = await runSeedLab({ dbs, northd: 'real', controller: 'real', log: (l) => lines.push(l) });
    lab = result;
    t.diagnostic(`timings: ${JSON.stringify(result.timings)}`);
    const failures: string[] = [];
    for (const spec of LAB_HOSTS) {
      const h = result.hosts.find((x) => x.name === spec.name);
      assert.ok(h, spec.name);
      if (h.address !== `${spec.ip}/26`) failures.push(`${h.name}: address ${h.address ?? 'none'} (expected ${spec.ip}/26) ${h.dhcpError ?? ''}`);
      assert.equal(h.pings.length, 3, `${h.name} ran its pings`);
      for (const p of h.pings) if (!p.ok) failures.push(`${h.name} -> ${p.target} (${p.dest}): ${p.received}/${p.transmitted}`);
    }
    assert.deepEqual(failures, [], `lab log:\n${lines.join('\n')}`);
  } finally {
    await lab?.stop();
    await dbs.stop();
    dbDir.cleanup();
  }
});
