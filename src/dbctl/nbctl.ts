/**
 * ovn-nbctl(8) as a db-ctl tool: the Northbound's record names, the global
 * options it adds (`--wait`), NB_Global's nb_cfg bump and the wait after
 * commit, and its commands (the database commands and nbctl-commands.ts).
 * `ovnts nbctl` (src/cli/nbctl.ts) and the lab run it.
 */
import { TABLE_NAMES } from '../ovsdb/models/ovn-nb.js';
import type { OvsdbClient } from '../ovsdb/client.js';
import { CtlError, type Globals, type ToolSpec } from './ctl.js';
import { DB_COMMANDS } from './db-commands.js';
import type { WorkDb } from './work-db.js';
import { NB_OVN_COMMANDS } from './nbctl-commands.js';

/** Names by which records of each table can be given (ovn-nbctl(8) "Database Commands"). */
export const NB_ROW_IDS: Readonly<Record<string, string>> = {
  NB_Global: '.',
  Logical_Switch: 'name',
  Logical_Switch_Port: 'name',
  Logical_Router: 'name',
  Logical_Router_Port: 'name',
  Port_Group: 'name',
  Address_Set: 'name',
  Load_Balancer: 'name',
  Load_Balancer_Group: 'name',
  Meter: 'name',
  Gateway_Chassis: 'name',
  HA_Chassis_Group: 'name',
  Forwarding_Group: 'name',
  Copp: 'name',
  Mirror: 'name',
  ACL: 'name',
  Connection: 'target',
};

function prepare(db: WorkDb): void {
  if (db.count('NB_Global') === 0) db.insert('NB_Global');
}

function globalOption(name: string, value: string | undefined, g: Globals): boolean {
  if (name === 'no-wait') {
    g.wait = 'none';
    return true;
  }
  if (name === 'wait') {
    if (value === 'none' || value === 'sb' || value === 'hv') {
      g.wait = value;
      return true;
    }
    if (value === undefined) throw new CtlError(`option '--wait' requires an argument`);
    throw new CtlError(`argument to --wait must be "none", "sb", or "hv"`);
  }
  if (name === 'print-wait-time') return true;
  return false;
}

/** --wait=sb|hv: bump NB_Global.nb_cfg in the transaction and read the new value back. */
function extraOps(db: WorkDb, g: Globals, ops: unknown[]): number | undefined {
  if (g.wait === 'none') return undefined;
  const nb = db.rows('NB_Global')[Symbol.iterator]().next();
  if (nb.done === true) return undefined;
  const row = nb.value;
  const where = row.isNew ? [] : [['_uuid', '==', ['uuid', row.uuid]]];
  ops.push({ op: 'mutate', table: 'NB_Global', where, mutations: [['nb_cfg', '+=', 1]] });
  ops.push({ op: 'select', table: 'NB_Global', where, columns: ['nb_cfg'] });
  return ops.length - 1;
}

async function afterCommit(client: OvsdbClient, g: Globals, nbCfg: number | undefined): Promise<void> {
  if (nbCfg === undefined) return;
  const col = g.wait === 'hv' ? 'hv_cfg' : 'sb_cfg';
  await client.waitUntil(() => {
    for (const r of client.table('NB_Global').values()) {
      const v = r.get(col).keys[0];
      if (typeof v === 'number' && v >= nbCfg) return true;
    }
    return false;
  }, 0x7fffffff);
}

export const NBCTL: ToolSpec = {
  program: 'ovn-nbctl',
  database: 'OVN_Northbound',
  envVar: 'OVN_NB_DB',
  defaultDb: 'unix:/var/run/ovn/ovnnb_db.sock',
  tables: TABLE_NAMES,
  rowIds: NB_ROW_IDS,
  commands: [...DB_COMMANDS, ...NB_OVN_COMMANDS],
  prepare,
  // prepare() and --wait read NB_Global; a single row, so all of it.
  initialNeeds: () => ({ NB_Global: true }),
  companionColumns: {
    Logical_Switch: ['name', 'ports'],
    Logical_Switch_Port: ['name', 'parent_name', 'tag_request'],
    Logical_Router: ['name', 'ports'],
    Logical_Router_Port: ['name'],
  },
  globalOption,
  extraOps,
  afterCommit,
};
