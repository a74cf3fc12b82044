#!/usr/bin/env node
// The seed lab (seed 000) end to end on the parts of ovnts that exist today:
// `ovnts ovsdb-server` serves OVN_Northbound and OVN_Southbound, `ovnts northd`
// translates and `ovnts controller` programs the chassis' OVS and answers DHCP.
// OVNTS_LAB_CONTROLLER=real puts Debian's ovn-controller on the chassis instead.
// Prints each DHCP and ping step; exits 1 when any fails. Everything runs in
// namespaces and temp dirs it removes.
import { runSeedLab, startOvnDatabases, LAB_HOSTS } from '../dist/test/helpers/ovn-lab.js';
import { startOvntsNorthd } from '../dist/test/helpers/ovnts-northd.js';
import { startOvntsController } from '../dist/test/helpers/ovnts-controller.js';

import { cleanupAll, tmpDir } from '../dist/test/helpers/proc.js';

const dir = tmpDir('ovnts-lab-main');
const dbs = await startOvnDatabases(dir.path, 'ovnts');
let failed = 0;
try {
  const ovntsController = process.env.OVNTS_LAB_CONTROLLER !== 'real';
  console.log(`seed lab: databases on ovnts ovsdb-server, ovnts northd, ${ovntsController ? 'ovnts controller' : "Debian's ovn-controller"} on the chassis`);
  const lab = await runSeedLab({
    dbs,
    northd: (ctx) => startOvntsNorthd(ctx),
    controller: ovntsController ? startOvntsController : 'real',
    log: (l) => { if (l.startsWith('[lab')) console.log(l); },
  });
  try {
    for (const spec of LAB_HOSTS) {
      const h = lab.hosts.find((x) => x.name === spec.name);
      const ok = h?.address === `${spec.ip}/26`;
      if (!ok) failed++;
      console.log(`${ok ? 'PASS' : 'FAIL'} dhcp ${spec.name}: ${h?.address ?? 'no lease'}${h?.dhcpError ? ` (${h.dhcpError})` : ''}`);
      for (const p of h?.pings ?? []) {
        if (!p.ok) failed++;
        console.log(`${p.ok ? 'PASS' : 'FAIL'} ping ${spec.name} -> ${p.target} ${p.dest}: ${p.received}/${p.transmitted} replies`);
      }
    }
    console.log(`timings (ms): ${JSON.stringify(lab.timings)}`);
  } finally {
    await lab.stop();
  }
} catch (e) {
  failed++;
  console.error(`lab failed: ${e instanceof Error ? e.message : String(e)}`);
} finally {
  await dbs.stop();
  dir.cleanup();
  await cleanupAll();
}
console.log(failed === 0 ? 'seed lab: all steps passed' : `seed lab: ${failed} step(s) failed`);
process.exit(failed === 0 ? 0 : 1);
