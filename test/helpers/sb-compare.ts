/**
 * The southbound contents northd computes, as comparable text: every row of
 * the tables northd writes, its references replaced by what they point at
 * (recursively), so two SBs written by different northd runs compare equal
 * when they hold the same rows whatever the UUIDs. Columns that other daemons
 * write (the chassis' claims) and the ones northd may allocate differently
 * are left out, each with its reason below.
 */
import { openSession } from './ovsdb-diff.js';

/** Tables northd writes, with the columns left out of the comparison. */
const NORTHD_TABLES: Readonly<Record<string, readonly string[]>> = {
  // Tunnel keys are allocated from the keys in use when a datapath or port appears: a northd that saw the NB's
  // history (switches added and removed during the chaos) and one that reads the final NB at once may pick other
  // free keys, which ovn-northd does not promise either (only options:requested-tnl-key is kept).
  Datapath_Binding: ['tunnel_key'],
  // chassis, encap, up and the additional/virtual columns are the controllers' claims, not northd's output.
  Port_Binding: [
    'tunnel_key',
    'chassis',
    'encap',
    'up',
    'additional_chassis',
    'additional_encap',
    'virtual_parent',
    'requested_chassis',
    'requested_additional_chassis',
  ],
  Logical_Flow: [],
  Logical_DP_Group: [],
  Multicast_Group: [],
  DHCP_Options: [],
  DHCPv6_Options: [],
  Address_Set: [],
  Port_Group: [],
  Load_Balancer: [],
  Meter: [],
  Meter_Band: [],
  IP_Multicast: [],
  DNS: [],
  HA_Chassis_Group: [],
  HA_Chassis: ['chassis'],
  Gateway_Chassis: ['chassis'],
  Service_Monitor: ['status', 'chassis_name'],
};

type Row = Record<string, unknown>;

/** The northd-written tables of the SB at `sockPath`, as table → sorted row texts. */
export async function northdOutput(sockPath: string): Promise<Map<string, string[]>> {
  const s = await openSession(sockPath);
  try {
    const schema = (await s.request('get_schema', ['OVN_Southbound'])) as { tables: Record<string, unknown> };
    const tables = Object.keys(NORTHD_TABLES).filter((t) => t in schema.tables);
    const results = (await s.request('transact', [
      'OVN_Southbound',
      ...tables.map((table) => ({ op: 'select', table, where: [] })),
    ])) as Array<{ rows: Row[] }>;
    const byUuid = new Map<string, [string, Row]>();
    tables.forEach((t, i) => {
      for (const r of results[i]!.rows) byUuid.set((r['_uuid'] as [string, string])[1], [t, r]);
    });
    const labels = new Map<string, string>();
    const label = (uuid: string): string => {
      const known = labels.get(uuid);
      if (known !== undefined) return known;
      const hit = byUuid.get(uuid);
      // A row outside these tables (a Chassis): its identity is not northd's.
      const text = hit === undefined ? 'ref' : `${hit[0]}${rowText(hit[0], hit[1], label)}`;
      labels.set(uuid, text);
      return text;
    };
    return new Map(tables.map((t, i) => [t, results[i]!.rows.map((r) => rowText(t, r, label)).sort()]));
  } finally {
    s.close();
  }
}

function rowText(table: string, row: Row, label: (uuid: string) => string): string {
  const skip = new Set(['_uuid', '_version', ...(NORTHD_TABLES[table] ?? [])]);
  const cols = Object.keys(row)
    .filter((c) => !skip.has(c))
    .sort();
  return `{${cols.map((c) => `${c}=${datumText(row[c], label)}`).join(' ')}}`;
}

function datumText(v: unknown, label: (uuid: string) => string): string {
  if (!Array.isArray(v)) return JSON.stringify(v);
  const [kind, body] = v as [string, unknown];
  if (kind === 'uuid') return label(body as string);
  if (kind === 'set')
    return `[${(body as unknown[])
      .map((x) => datumText(x, label))
      .sort()
      .join(',')}]`;
  if (kind === 'map')
    return `{${(body as Array<[unknown, unknown]>)
      .map(([k, x]) => `${datumText(k, label)}:${datumText(x, label)}`)
      .sort()
      .join(',')}}`;
  return JSON.stringify(v);
}

/** The rows one side has and the other not, per table (empty when equal). */
export function northdOutputDiff(a: Map<string, string[]>, b: Map<string, string[]>, names: [string, string]): string {
  const out: string[] = [];
  for (const t of new Set([...a.keys(), ...b.keys()])) {
    const rest = [...(b.get(t) ?? [])];
    for (const r of a.get(t) ?? []) {
      const i = rest.indexOf(r);
      if (i >= 0) rest.splice(i, 1);
      else out.push(`- ${names[0]} ${t}: ${r}`);
    }
    for (const r of rest) out.push(`+ ${names[1]} ${t}: ${r}`);
  }
  return out.join('\n');
}
