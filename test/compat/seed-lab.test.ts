/**
 * The seed lab (seed 000) with the real ovn-northd and ovn-controller on a
 * private userspace-datapath OVS, its databases served first by the real
 * ovsdb-server (the baseline that proves the harness) and then by
 * `ovnts ovsdb-server`: vm5, c51 and c52 each get their NB address by DHCP and
 * every ping (router and each other) succeeds.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, tmpDir } from '../helpers/proc.js';
import { labFailures, runSeedLab, startOvnDatabases, type LabResult } from '../helpers/ovn-lab.js';
import type { ServerKind } from '../helpers/ovsdb-servers.js';

after(cleanupAll);

for (const kind of ['real', 'ovnts'] as ServerKind[]) {
  test(
    `seed lab, databases on ${kind === 'real' ? 'the real ovsdb-server' : 'ovnts ovsdb-server'}: leases and pings`,
    { timeout: 240_000 },
    async (t) => {
      const dbDir = tmpDir('ovnts-lab-dbs');
      const dbs = await startOvnDatabases(dbDir.path, kind);
      const lines: string[] = [];
      let lab: LabResult | undefined;
      try {
        const result = await runSeedLab({ dbs, northd: 'real', controller: 'real', log: (l) => lines.push(l) });
        lab = result;
        t.diagnostic(`timings: ${JSON.stringify(result.timings)}`);
        assert.deepEqual(labFailures(result), [], `lab log:\n${lines.join('\n')}`);
      } finally {
        await lab?.stop();
        await dbs.stop();
        dbDir.cleanup();
      }
    },
  );
}
