/**
 * The chassis' own rows in the southbound database (ovn-sb(5): Chassis, Encap,
 * Chassis_Private): registered from the local configuration and kept in line
 * with it, and the `nb_cfg` report that `ovn-nbctl --wait=hv` waits for
 * (ovn-nbctl(8), "--wait"; ovn-sb(5) Chassis_Private `nb_cfg`).
 */
import type { OvsdbClient } from '../ovsdb/client.js';
import type { Chassis, Chassis_Private, OVN_SouthboundTables } from '../ovsdb/models/ovn-sb.js';
import type { ChassisConfig, EncapConfig } from './ovs-config.js';
import { SbModels } from './sb-models.js';

/**
 * The `Chassis.other_config` the controller writes: the chassis' settings that
 * northd and other chassis read, and the feature flags that tell ovn-northd
 * which flow forms this controller understands (ovn-sb(5) Chassis
 * "other_config"; the same keys 23.03's ovn-controller writes).
 */
export function chassisOtherConfig(cfg: ChassisConfig, datapathType: string): Map<string, string> {
  const ext = (k: string): string => cfg.externalIds.get(k) ?? '';
  const m = new Map<string, string>([
    ['ct-no-masked-label', 'true'],
    ['datapath-type', datapathType],
    ['iface-types', cfg.ifaceTypes.join(',')],
    ['is-interconn', String(cfg.isInterconn)],
    ['mac-binding-timestamp', 'true'],
    ['ovn-bridge-mappings', cfg.bridgeMappings],
    ['ovn-chassis-mac-mappings', cfg.chassisMacMappings],
    ['ovn-cms-options', cfg.cmsOptions],
    ['ovn-ct-lb-related', 'true'],
    ['ovn-enable-lflow-cache', String(cfg.enableLflowCache)],
    ['ovn-limit-lflow-cache', ext('ovn-limit-lflow-cache')],
    ['ovn-memlimit-lflow-cache-kb', ext('ovn-memlimit-lflow-cache-kb')],
    ['ovn-monitor-all', String(cfg.monitorAll)],
    ['ovn-trim-limit-lflow-cache', ext('ovn-trim-limit-lflow-cache')],
    ['ovn-trim-timeout-ms', ext('ovn-trim-timeout-ms')],
    ['ovn-trim-wmark-perc-lflow-cache', ext('ovn-trim-wmark-perc-lflow-cache')],
    ['port-up-notif', 'true'],
  ]);
  return new Map([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function mapJson(m: ReadonlyMap<string, string>): unknown {
  return ['map', [...m]];
}

function sameMap(have: ReadonlyMap<string, string>, want: ReadonlyMap<string, string>): boolean {
  if (have.size !== want.size) return false;
  for (const [k, v] of want) if (have.get(k) !== v) return false;
  return true;
}

function encapOptions(cfg: ChassisConfig): Map<string, string> {
  return new Map([['csum', String(cfg.encapCsum)]]);
}

function encapKey(e: EncapConfig, options: ReadonlyMap<string, string>): string {
  return `${e.type}|${e.ip}|${[...options].map(([k, v]) => `${k}=${v}`).join(',')}`;
}

/** Finds a Chassis or Chassis_Private row by its `name`. */
function rowByName<K extends 'Chassis' | 'Chassis_Private'>(
  sb: OvsdbClient,
  models: SbModels,
  table: K,
  name: string,
): OVN_SouthboundTables[K] | undefined {
  for (const r of models.rows(sb, table)) if (r.name === name) return r;
  return undefined;
}

/** The chassis' rows as the replica shows them. */
export interface ChassisRows {
  readonly chassis: Chassis;
  readonly chassisPrivate: Chassis_Private | undefined;
}

/**
 * Brings Chassis, its Encaps and Chassis_Private in line with `cfg`. Returns
 * true when it wrote something (the caller waits for the update and runs
 * again); false when the rows were already right. A Chassis row of the same
 * name left by an earlier run of this chassis is taken over, as ovn-controller
 * does after a restart.
 */
export async function registerChassis(
  sb: OvsdbClient,
  cfg: ChassisConfig,
  datapathType: string,
  models: SbModels = new SbModels(),
): Promise<boolean> {
  const otherConfig = chassisOtherConfig(cfg, datapathType);
  const options = encapOptions(cfg);
  const wantEncaps = new Map(cfg.encaps.map((e) => [encapKey(e, options), e]));
  const existing = rowByName(sb, models, 'Chassis', cfg.systemId);
  const txn = sb.txn();
  const newEncapRefs = (): unknown[] =>
    [...wantEncaps.values()].map((e) =>
      txn.insert('Encap', { type: e.type, ip: e.ip, options: mapJson(options), chassis_name: cfg.systemId }),
    );
  let chassisRef: unknown;
  if (existing === undefined) {
    chassisRef = txn.insert('Chassis', {
      name: cfg.systemId,
      hostname: cfg.hostname,
      encaps: ['set', newEncapRefs()],
      other_config: mapJson(otherConfig),
      transport_zones: ['set', [...cfg.transportZones]],
    });
  } else {
    chassisRef = ['uuid', existing._uuid];
    const update: Record<string, unknown> = {};
    if (existing.hostname !== cfg.hostname) update['hostname'] = cfg.hostname;
    if (!sameMap(existing.other_config, otherConfig)) update['other_config'] = mapJson(otherConfig);
    if (existing.transport_zones.join(',') !== cfg.transportZones.join(',')) update['transport_zones'] = ['set', [...cfg.transportZones]];
    const haveEncaps = new Set<string>();
    for (const u of existing.encaps) {
      const r = sb.row('Encap', u);
      if (r === undefined) continue;
      const e = models.of('Encap', r);
      haveEncaps.add(encapKey({ type: e.type, ip: e.ip }, e.options));
    }
    const encapsDiffer = haveEncaps.size !== wantEncaps.size || [...wantEncaps.keys()].some((k) => !haveEncaps.has(k));
    // Encap is a root table in the SB: old rows must be deleted explicitly.
    if (encapsDiffer) {
      for (const u of existing.encaps) txn.delete('Encap', u);
      update['encaps'] = ['set', newEncapRefs()];
    }
    if (Object.keys(update).length > 0) txn.update('Chassis', existing._uuid, update);
  }
  const priv = rowByName(sb, models, 'Chassis_Private', cfg.systemId);
  if (priv === undefined) {
    txn.insert('Chassis_Private', { name: cfg.systemId, chassis: chassisRef });
  } else if (existing === undefined || priv.chassis !== existing._uuid) {
    txn.update('Chassis_Private', priv._uuid, { chassis: chassisRef });
  }
  if (txn.size === 0) return false;
  await txn.commit();
  return true;
}

/** This chassis' rows, once registered. */
export function chassisRows(sb: OvsdbClient, systemId: string, models: SbModels = new SbModels()): ChassisRows | undefined {
  const chassis = rowByName(sb, models, 'Chassis', systemId);
  if (chassis === undefined) return undefined;
  return { chassis, chassisPrivate: rowByName(sb, models, 'Chassis_Private', systemId) };
}

/**
 * Reports that the flows for SB_Global `nb_cfg` are installed: sets
 * Chassis_Private `nb_cfg` and `nb_cfg_timestamp` (ms since the epoch), which
 * northd sums into NB `hv_cfg`. No-op when already reported.
 */
export async function reportNbCfg(
  sb: OvsdbClient,
  systemId: string,
  nbCfg: number,
  now: number = Date.now(),
  models: SbModels = new SbModels(),
): Promise<boolean> {
  const priv = rowByName(sb, models, 'Chassis_Private', systemId);
  if (priv === undefined || priv.nb_cfg === nbCfg) return false;
  await sb.txn().update('Chassis_Private', priv._uuid, { nb_cfg: nbCfg, nb_cfg_timestamp: now }).commit();
  return true;
}

/** SB_Global `nb_cfg`, or 0 before northd wrote the row. */
export function sbNbCfg(sb: OvsdbClient, models: SbModels = new SbModels()): number {
  for (const r of models.rows(sb, 'SB_Global')) return r.nb_cfg;
  return 0;
}

/** Deletes this chassis' rows (ovn-controller's `exit` with cleanup). */
export async function unregisterChassis(sb: OvsdbClient, systemId: string, models: SbModels = new SbModels()): Promise<void> {
  const rows = chassisRows(sb, systemId, models);
  if (rows === undefined) return;
  const txn = sb.txn();
  for (const u of rows.chassis.encaps) txn.delete('Encap', u);
  txn.delete('Chassis', rows.chassis._uuid);
  if (rows.chassisPrivate !== undefined) txn.delete('Chassis_Private', rows.chassisPrivate._uuid);
  await txn.commit();
}
