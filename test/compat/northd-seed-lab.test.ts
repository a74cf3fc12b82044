/**
 * The seed lab with ovnts northd and the REAL ovn-controller on a userspace OVS:
 * ovnts writes every datapath, binding and logical flow the real controller runs;
 * vm5, c51 and c52 get their leases and ping the router and each other. Then the
 * NB `up` of every port is true (mirrored from the bindings the controller set).
 * The last case is ovnts alone: its databases, northd and controller.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, tmpDir } from '../helpers/proc.js';
import { labFailures, runSeedLab, startOvnDatabases, type LabResult } from '../helpers/ovn-lab.js';
import { startOvntsNorthd } from '../helpers/ovnts-northd.js';
import { startOvntsController } from '../helpers/ovnts-controller.js';
import type { ServerKind } from '../helpers/ovsdb-servers.js';

after(cleanupAll);

const CASES: Array<{ kind: ServerKind; controller: 'real' | 'ovnts' }> = [
  { kind: 'ovnts', controller: 'real' },
  { kind: 'real', controller: 'real' },
  // The main job: ovnts alone (databases, northd, controller).
  { kind: 'ovnts', controller: 'ovnts' },
];

for (const { kind, controller } of CASES) {
  test(
    `seed lab with ovnts northd + ${controller === 'real' ? 'real ovn-controller' : 'ovnts controller'} (${kind} databases)`,
    { timeout: 240_000 },
    async () => {
      const dbDir = tmpDir('ovnts-northd-lab');
      const dbs = await startOvnDatabases(dbDir.path, kind);
      const lines: string[] = [];
      let lab: LabResult | undefined;
      try {
        const result = await runSeedLab({
          dbs,
          northd: (ctx) => startOvntsNorthd(ctx),
          controller: controller === 'real' ? 'real' : startOvntsController,
          log: (l) => lines.push(l),
        });
        lab = result;
        assert.deepEqual(labFailures(result), [], `lab log:\n${lines.slice(-60).join('\n')}\n${result.logs(30)}`);
        const up = await result.nbctl('--bare', '--columns=name,up', 'list', 'Logical_Switch_Port');
        const pairs = up
          .trim()
          .split(/\n\n/)
          .map((b) => b.split('\n').join('='));
        for (const p of pairs) assert.match(p, /=true$/, `NB up: ${pairs.join(', ')}`);
      } finally {
        await lab?.stop();
        await dbs.stop();
        dbDir.cleanup();
      }
    },
  );
}
