/**
 * The chassis' own configuration, read where ovn-controller(8) reads it: the
 * `external_ids` of the one `Open_vSwitch` row in the local Open vSwitch
 * database ("Configuration" in ovn-controller(8)), plus the integration bridge
 * that the controller creates when it is missing.
 */
import { hostname as osHostname } from 'node:os';
import type { OvsdbClient, Row } from '../ovsdb/client.js';

/** An encapsulation the chassis offers: one per (type, IP) pair, as ovn-controller(8) registers them. */
export interface EncapConfig {
  readonly type: EncapType;
  readonly ip: string;
}

/** Tunnel types OVN knows, in the order ovn-controller prefers them between two chassis. */
export const ENCAP_TYPES = ['geneve', 'stt', 'vxlan'] as const;
export type EncapType = (typeof ENCAP_TYPES)[number];

/**
 * What the controller needs from `Open_vSwitch.external_ids` (ovn-controller(8),
 * "Configuration"); every field is named after its key.
 */
export interface ChassisConfig {
  /** `system-id`: the chassis name. */
  readonly systemId: string;
  /** `ovn-remote`: the SB database remote(s). */
  readonly remote: string;
  /** `ovn-encap-type` × `ovn-encap-ip`. */
  readonly encaps: readonly EncapConfig[];
  /** `ovn-encap-csum` (default true): whether Encap rows offer checksums. */
  readonly encapCsum: boolean;
  /** `ovn-bridge`, default `br-int`. */
  readonly bridge: string;
  /** `ovn-bridge-datapath-type`; undefined leaves the bridge's type alone. */
  readonly datapathType: string | undefined;
  /** `hostname`, defaulting to the system's host name. */
  readonly hostname: string;
  /** `ovn-bridge-mappings` as given (for the Chassis row). */
  readonly bridgeMappings: string;
  /** `ovn-cms-options` as given. */
  readonly cmsOptions: string;
  /** `ovn-chassis-mac-mappings` as given. */
  readonly chassisMacMappings: string;
  /** `ovn-monitor-all`, default false. */
  readonly monitorAll: boolean;
  /** `ovn-is-interconn`, default false. */
  readonly isInterconn: boolean;
  /** `ovn-enable-lflow-cache`, default true. */
  readonly enableLflowCache: boolean;
  /** `ovn-transport-zones`: the zones this chassis is in (none = only the default zone). */
  readonly transportZones: readonly string[];
  /** The raw map, for keys read elsewhere (`ovn-limit-lflow-cache`, ...). */
  readonly externalIds: ReadonlyMap<string, string>;
  /** `Open_vSwitch.iface_types`, sorted, for the Chassis row's `iface-types`. */
  readonly ifaceTypes: readonly string[];
}

/** A configuration problem, worded as ovn-controller logs it. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function stringMap(row: Row, col: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of row.map(col)) out.set(String(k), String(v));
  return out;
}

function boolOption(v: string | undefined, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  return v === 'true';
}

/** Splits a comma/space separated list (OVN accepts both in `ovn-encap-type` and `ovn-encap-ip`). */
function splitList(v: string): string[] {
  return v.split(/[\s,]+/).filter((s) => s !== '');
}

/**
 * Reads the chassis configuration from the `Open_vSwitch` row; throws a
 * {@link ConfigError} naming the first missing or bad key. Pure.
 */
export function parseChassisConfig(ovsRow: Row, hostname: string = osHostname()): ChassisConfig {
  const ids = stringMap(ovsRow, 'external_ids');
  const systemId = ids.get('system-id');
  if (systemId === undefined || systemId === '') throw new ConfigError('No chassis_id specified (external_ids:system-id missing).');
  const remote = ids.get('ovn-remote');
  if (remote === undefined || remote === '') throw new ConfigError('external_ids:ovn-remote is not set.');
  const typesRaw = ids.get('ovn-encap-type');
  if (typesRaw === undefined || typesRaw === '') throw new ConfigError('Need to specify an encap type and ip');
  const ipsRaw = ids.get('ovn-encap-ip');
  if (ipsRaw === undefined || ipsRaw === '') throw new ConfigError('Need to specify an encap type and ip');
  const types: EncapType[] = [];
  for (const t of splitList(typesRaw)) {
    if (!(ENCAP_TYPES as readonly string[]).includes(t)) throw new ConfigError(`Unknown tunnel type: ${t}`);
    if (!types.includes(t as EncapType)) types.push(t as EncapType);
  }
  const ips = splitList(ipsRaw);
  const encaps: EncapConfig[] = [];
  for (const type of types) for (const ip of ips) encaps.push({ type, ip });
  const dpType = ids.get('ovn-bridge-datapath-type');
  let ifaceTypes: string[] = [];
  try {
    ifaceTypes = ovsRow.set('iface_types').map(String).sort();
  } catch {
    // iface_types not monitored: the Chassis row then lists none.
  }
  return {
    systemId,
    remote,
    encaps,
    encapCsum: boolOption(ids.get('ovn-encap-csum'), true),
    bridge: ids.get('ovn-bridge') || 'br-int',
    datapathType: dpType === undefined || dpType === '' ? undefined : dpType,
    hostname: ids.get('hostname') || hostname,
    bridgeMappings: ids.get('ovn-bridge-mappings') ?? '',
    cmsOptions: ids.get('ovn-cms-options') ?? '',
    chassisMacMappings: ids.get('ovn-chassis-mac-mappings') ?? '',
    monitorAll: boolOption(ids.get('ovn-monitor-all'), false),
    isInterconn: boolOption(ids.get('ovn-is-interconn'), false),
    enableLflowCache: boolOption(ids.get('ovn-enable-lflow-cache'), true),
    transportZones: [...new Set(splitList(ids.get('ovn-transport-zones') ?? ''))].sort(),
    externalIds: ids,
    ifaceTypes,
  };
}

/**
 * The Open vSwitch tables and columns the controller reads (ovs-vswitchd.conf.db(5)).
 * Only those: each update of a monitored column wakes a pass, and ovs-vswitchd
 * rewrites some columns no pass reads several times per new port (`cur_cfg`
 * after every ovs-vsctl run, `mac_in_use` on every address change).
 */
export const OVS_TABLES = {
  Open_vSwitch: ['external_ids', 'other_config', 'bridges', 'iface_types', 'datapath_types'],
  Bridge: ['name', 'ports', 'external_ids', 'other_config', 'fail_mode', 'datapath_type'],
  Port: ['name', 'interfaces', 'external_ids', 'tag'],
  Interface: ['name', 'type', 'options', 'external_ids', 'ofport'],
} as const;

/** The one Open_vSwitch row, if the database has it yet. */
export function ovsRootRow(ovs: OvsdbClient): Row | undefined {
  for (const r of ovs.table('Open_vSwitch').values()) return r;
  return undefined;
}

/** The bridge row named `name`, if any. */
export function findBridge(ovs: OvsdbClient, name: string): Row | undefined {
  for (const r of ovs.table('Bridge').values()) if (r.scalar('name') === name) return r;
  return undefined;
}

/**
 * Creates the integration bridge when it is missing, as ovn-controller(8)
 * describes (`fail-mode=secure`, `other-config:disable-in-band=true`, the
 * configured datapath type), and brings an existing bridge's datapath type in
 * line. Returns true when it changed the database.
 */
export async function ensureIntegrationBridge(ovs: OvsdbClient, cfg: ChassisConfig): Promise<boolean> {
  const root = ovsRootRow(ovs);
  if (root === undefined) throw new ConfigError('the Open_vSwitch table has no row');
  const br = findBridge(ovs, cfg.bridge);
  if (br !== undefined) {
    if (cfg.datapathType !== undefined && br.scalar('datapath_type') !== cfg.datapathType) {
      await ovs.txn().update('Bridge', br.uuid, { datapath_type: cfg.datapathType }).commit();
      return true;
    }
    return false;
  }
  const txn = ovs.txn();
  // Fails if another writer changed the bridge list meanwhile; the next pass retries.
  txn.verify('Open_vSwitch', root.uuid, ['bridges']);
  const iface = txn.insert('Interface', { name: cfg.bridge, type: 'internal' });
  const port = txn.insert('Port', { name: cfg.bridge, interfaces: iface });
  const bridgeRow: Record<string, unknown> = {
    name: cfg.bridge,
    ports: port,
    fail_mode: 'secure',
    other_config: ['map', [['disable-in-band', 'true']]],
  };
  if (cfg.datapathType !== undefined) bridgeRow['datapath_type'] = cfg.datapathType;
  const bridge = txn.insert('Bridge', bridgeRow);
  txn.mutate('Open_vSwitch', root.uuid, [['bridges', 'insert', ['set', [bridge]]]]);
  txn.comment(`ovn-controller: creating integration bridge '${cfg.bridge}'`);
  await txn.commit();
  return true;
}

/** One OVS interface attached to the integration bridge. */
export interface BridgeInterface {
  readonly uuid: string;
  readonly portUuid: string;
  readonly name: string;
  readonly type: string;
  /** OpenFlow port number; undefined until ovs-vswitchd assigns one (or -1 on failure). */
  readonly ofport: number | undefined;
  readonly externalIds: ReadonlyMap<string, string>;
  readonly portExternalIds: ReadonlyMap<string, string>;
  readonly options: ReadonlyMap<string, string>;
}

/**
 * One interface of a bridge, read from its (immutable) replica rows; the maps
 * are built when first read: a pass lists the bridge's interfaces several
 * times and most readers want only `iface-id` and the ofport.
 */
class RowInterface implements BridgeInterface {
  readonly uuid: string;
  readonly portUuid: string;
  readonly name: string;
  readonly type: string;
  readonly ofport: number | undefined;
  private ids: Map<string, string> | undefined;
  private portIds: Map<string, string> | undefined;
  private opts: Map<string, string> | undefined;

  constructor(
    private readonly iface: Row,
    private readonly port: Row,
  ) {
    this.uuid = iface.uuid;
    this.portUuid = port.uuid;
    this.name = String(iface.scalar('name'));
    this.type = String(iface.scalar('type'));
    const of = iface.optional('ofport');
    this.ofport = typeof of === 'number' && of > 0 ? of : undefined;
  }

  get externalIds(): ReadonlyMap<string, string> {
    return (this.ids ??= stringMap(this.iface, 'external_ids'));
  }
  get portExternalIds(): ReadonlyMap<string, string> {
    return (this.portIds ??= stringMap(this.port, 'external_ids'));
  }
  get options(): ReadonlyMap<string, string> {
    return (this.opts ??= stringMap(this.iface, 'options'));
  }
}

/** The interfaces of every port on bridge `name`. */
export function bridgeInterfaces(ovs: OvsdbClient, name: string): BridgeInterface[] {
  const br = findBridge(ovs, name);
  if (br === undefined) return [];
  const out: BridgeInterface[] = [];
  for (const pu of br.set('ports')) {
    const port = ovs.row('Port', String(pu));
    if (port === undefined) continue;
    for (const iu of port.set('interfaces')) {
      const iface = ovs.row('Interface', String(iu));
      if (iface !== undefined) out.push(new RowInterface(iface, port));
    }
  }
  return out;
}
