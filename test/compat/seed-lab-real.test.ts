/**
 * The baseline for the seed lab harness: all-real OVN (ovsdb-server, ovn-northd,
 * ovn-controller on a private userspace OVS). vm5, c51 and c52 each get their
 * NB address by DHCP and every ping (router and each other) succeeds. The same
 * fixture later runs with ovnts parts swapped in.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, tmpDir } from '../helpers/proc.js';
import { LAB_HOSTS, runSeedLab, startRealOvnDatabases, type LabResult } from '../helpers/ovn-lab.js';

after(cleanupAll);

test('seed lab on real OVN: DHCP leases and pings for vm5, c51, c52', { timeout: 240_000 }, async (t) => {
  const dbDir = tmpDir('ovnts-lab-dbs');
  const dbs = await startRealOvnDatabases(dbDir.path);
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
    if (failures.length > 0) assert.fail(`${failures.join('\n')}\nlab log:\n${lines.join('\n')}\n${result.logs()}`);
  } finally {
    await lab?.stop();
    await dbs.stop();
    dbDir.cleanup();
  }
});
