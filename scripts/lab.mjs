#!/usr/bin/env node
// The seed lab (seed 000) end to end on the parts of ovnts that exist today:
// `ovnts ovsdb-server` serves OVN_Northbound and OVN_Southbound; until ovnts
// northd and controller land (issues 4 and 5), Debian's ovn-northd and
// ovn-controller stand in for them. Prints each DHCP and ping step; exits 1
// when any fails. Everything runs in namespaces and temp dirs it removes.
import { runSeedLab, startOvnDatabases, LAB_HOSTS } from '../dist/test/helpers/ovn-lab.js';

import { cleanupAll, tmpDir } from '../dist/test/helpers/proc.js';

const dir = tmpDir('ovnts-lab-main');
const dbs = await startOvnDatabases(dir.path, 'ovnts');
let failed = 0;
try {
  console.log('seed lab: databases on ovnts ovsdb-server; ovn-northd and ovn-controller from Debian stand in until ovnts has its own');
  const lab = await runSeedLab({ dbs, northd: 'real', controller: 'real', log: (l) => { if (l.startsWith('[lab')) console.log(l); } });
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
