/**
 * Address_Set and Port_Group: what `$name` and `@name` in logical flow matches
 * resolve to on the chassis. Address sets are the NB's own, each port group's
 * IPv4 and IPv6 addresses (`<pg>_ip4`, `<pg>_ip6`) and the service monitor MAC;
 * port groups are split per switch as `<datapath key>_<name>`.
 */
import { parseLspAddress } from '../build/addresses.js';
import { set, str, syncTable, type DesiredRow } from './rows.js';
import type { SbPass } from './sb-pass.js';
import type { Datapaths } from './datapaths.js';

export function syncAddressSets(p: SbPass, dps: Datapaths, svcMonitorMac: string): void {
  const { nbv } = p;
  const wantAs = new Map<string, DesiredRow>();
  const asRow = (name: string, addresses: readonly string[]): void => {
    wantAs.set(name, { cols: { name, addresses: set([...addresses]) } });
  };
  for (const a of nbv.addressSets.values()) asRow(a.name, a.addresses);
  asRow('svc_monitor_mac', [svcMonitorMac]);
  const wantPg = new Map<string, DesiredRow>();
  for (const pg of nbv.portGroups.values()) {
    const v4: string[] = [];
    const v6: string[] = [];
    const perDp = new Map<string, string[]>();
    for (const u of pg.ports) {
      const lsp = nbv.switchPorts.get(u);
      const ls = nbv.switchOfPort(u);
      if (lsp === undefined || ls === undefined) continue;
      for (const entry of lsp.addresses) {
        const a = parseLspAddress(entry);
        if (a !== undefined) {
          v4.push(...a.ipv4);
          v6.push(...a.ipv6);
        }
      }
      const key = dps.keyOf.get(ls._uuid);
      if (key === undefined) continue;
      const l = perDp.get(`${key}_${pg.name}`);
      if (l === undefined) perDp.set(`${key}_${pg.name}`, [lsp.name]);
      else l.push(lsp.name);
    }
    asRow(`${pg.name}_ip4`, v4);
    asRow(`${pg.name}_ip6`, v6);
    for (const [name, ps] of perDp) wantPg.set(name, { cols: { name, ports: set(ps) } });
  }
  syncTable(p.sb, p.txn, 'Address_Set', wantAs, (r) => str(r, 'name'), true, p.memo('Address_Set'));
  syncTable(p.sb, p.txn, 'Port_Group', wantPg, (r) => str(r, 'name'), true, p.memo('Port_Group'));
}
