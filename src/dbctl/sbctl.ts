/**
 * ovn-sbctl(8) as a db-ctl tool: show, the database commands, chassis-add/del,
 * lsp-bind/unbind, lflow-list.
 */
import { TABLE_NAMES } from '../ovsdb/models/ovn-sb.js';
import type { Datum } from '../ovsdb/datum.js';
import { CtlError, type CmdContext, type CommandSpec, type Reads, type ToolSpec } from './ctl.js';
import { DB_COMMANDS } from './db-commands.js';
import { datumToText } from './values.js';
import type { WRow } from './work-db.js';

export const SB_ROW_IDS: Readonly<Record<string, string>> = {
  SB_Global: '.',
  Chassis: 'name',
  Chassis_Private: 'name',
  Encap: 'chassis_name',
  Port_Binding: 'logical_port',
  Port_Group: 'name',
  Address_Set: 'name',
  HA_Chassis_Group: 'name',
  Meter: 'name',
  Connection: 'target',
  Load_Balancer: 'name',
};

const str = (s: string): Datum => ({ keys: [s] });
const cmd = (
  name: string,
  minArgs: number,
  maxArgs: number,
  reads: Reads,
  run: (ctx: CmdContext) => void,
  options: readonly string[] = [],
): CommandSpec => ({
  name,
  minArgs,
  maxArgs,
  options,
  reads,
  run,
});

function chassisByName(ctx: CmdContext, name: string): WRow | undefined {
  return ctx.db.lookup('Chassis', 'name', name)[0];
}
function portByName(ctx: CmdContext, name: string): WRow | undefined {
  return ctx.db.lookup('Port_Binding', 'logical_port', name)[0];
}

function show(ctx: CmdContext): void {
  const ENCAP_TYPE = ctx.db.columnType('Encap', 'ip');
  const OPTS_TYPE = ctx.db.columnType('Encap', 'options');
  for (const ch of ctx.db.rows('Chassis')) {
    ctx.print(`Chassis ${datumToText(ch.get('name'), ctx.db.columnType('Chassis', 'name'))}\n`);
    const host = ch.str('hostname');
    if (host !== '') ctx.print(`    hostname: ${datumToText(ch.get('hostname'), ctx.db.columnType('Chassis', 'hostname'))}\n`);
    for (const eu of ch.get('encaps').keys) {
      const e = ctx.db.get('Encap', String(eu));
      if (e === undefined) continue;
      ctx.print(`    Encap ${e.str('type')}\n`);
      ctx.print(`        ip: ${datumToText(e.get('ip'), ENCAP_TYPE)}\n`);
      ctx.print(`        options: ${datumToText(e.get('options'), OPTS_TYPE)}\n`);
    }
    for (const pb of ctx.db.rows('Port_Binding')) {
      if (pb.get('chassis').keys[0] === ch.uuid)
        ctx.print(`    Port_Binding ${datumToText(pb.get('logical_port'), ctx.db.columnType('Port_Binding', 'logical_port'))}\n`);
    }
  }
}

function datapathName(dp: WRow | undefined): string {
  if (dp === undefined) return '';
  const ext = dp.get('external_ids');
  for (const k of ['name', 'name2']) {
    const i = ext.keys.indexOf(k);
    if (i >= 0) return String(ext.values?.[i]);
  }
  return '';
}

function lflowList(ctx: CmdContext): void {
  const wanted = ctx.args[0];
  const flows = [...ctx.db.rows('Logical_Flow')].map((f) => {
    const dpu = f.get('logical_datapath').keys[0];
    const dp = dpu === undefined ? undefined : ctx.db.get('Datapath_Binding', String(dpu));
    const ext = f.get('external_ids');
    const si = ext.keys.indexOf('stage-name');
    return {
      f,
      dp,
      dpName: datapathName(dp),
      pipeline: f.str('pipeline'),
      table: Number(f.get('table_id').keys[0] ?? 0),
      priority: Number(f.get('priority').keys[0] ?? 0),
      match: f.str('match'),
      actions: f.str('actions'),
      stage: si >= 0 ? String(ext.values?.[si]) : '',
    };
  });
  const selected = flows.filter(
    (x) => wanted === undefined || x.dpName === wanted || x.dp?.uuid === wanted || (x.dp !== undefined && x.dp.uuid.startsWith(wanted)),
  );
  if (wanted !== undefined && selected.length === 0 && !flows.some((x) => x.dpName === wanted)) {
    const dps = [...ctx.db.rows('Datapath_Binding')].filter((d) => datapathName(d) === wanted || d.uuid === wanted);
    if (dps.length === 0) throw new CtlError(`${wanted} is not a UUID or the beginning of a UUID`);
  }
  selected.sort(
    (a, b) =>
      cmp(a.dpName, b.dpName) ||
      cmp(a.dp?.uuid ?? '', b.dp?.uuid ?? '') ||
      cmp(a.pipeline === 'ingress' ? 0 : 1, b.pipeline === 'ingress' ? 0 : 1) ||
      a.table - b.table ||
      b.priority - a.priority ||
      cmp(a.match, b.match) ||
      cmp(a.actions, b.actions),
  );
  let last = '';
  for (const x of selected) {
    const head = `${x.dp?.uuid ?? ''}/${x.pipeline}`;
    if (head !== last) {
      ctx.print(`Datapath: "${x.dpName}" (${x.dp?.uuid ?? ''})  Pipeline: ${x.pipeline}\n`);
      last = head;
    }
    ctx.print(
      `  table=${String(x.table).padEnd(2)}(${x.stage.padEnd(19)}), priority=${String(x.priority).padEnd(5)}, match=(${x.match}), action=(${x.actions})\n`,
    );
  }
}

function cmp<T extends string | number>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// What each command reads (ovn-sbctl's pre_* functions).
const CHASSIS: Reads = { Chassis: true, Encap: true };
const SHOW: Reads = { ...CHASSIS, Port_Binding: ['logical_port', 'chassis'] };
const BINDING: Reads = { Chassis: ['name'], Port_Binding: ['logical_port', 'chassis'] };
const LFLOWS: Reads = { Logical_Flow: true, Datapath_Binding: true };

const SB_COMMANDS: readonly CommandSpec[] = [
  cmd('show', 0, 0, SHOW, show),
  cmd(
    'chassis-add',
    3,
    3,
    CHASSIS,
    (ctx) => {
      const name = ctx.arg(0);
      if (chassisByName(ctx, name) !== undefined) {
        if (ctx.has('--may-exist')) return;
        throw new CtlError(`cannot create a chassis named ${name} because a chassis named ${name} already exists`);
      }
      const types = ctx
        .arg(1)
        .split(',')
        .filter((t) => t !== '');
      const encaps: string[] = [];
      for (const t of types) {
        const e = ctx.db.insert('Encap', {
          type: str(t),
          ip: str(ctx.arg(2)),
          chassis_name: str(name),
          options: { keys: ['csum'], values: ['true'] },
        });
        encaps.push(e.uuid);
      }
      ctx.db.insert('Chassis', { name: str(name), encaps: { keys: encaps.sort() } });
    },
    ['--may-exist'],
  ),
  cmd(
    'chassis-del',
    1,
    1,
    CHASSIS,
    (ctx) => {
      const ch = chassisByName(ctx, ctx.arg(0));
      if (ch === undefined) {
        if (ctx.has('--if-exists')) return;
        throw new CtlError(`no chassis named ${ctx.arg(0)}`);
      }
      for (const eu of ch.get('encaps').keys) {
        const e = ctx.db.get('Encap', String(eu));
        if (e !== undefined) ctx.db.delete(e);
      }
      ctx.db.delete(ch);
    },
    ['--if-exists'],
  ),
  cmd(
    'lsp-bind',
    2,
    2,
    BINDING,
    (ctx) => {
      const pb = portByName(ctx, ctx.arg(0));
      if (pb === undefined) throw new CtlError(`no port named ${ctx.arg(0)}`);
      const ch = chassisByName(ctx, ctx.arg(1));
      if (ch === undefined) throw new CtlError(`no chassis named ${ctx.arg(1)}`);
      const cur = pb.get('chassis').keys[0];
      if (cur !== undefined) {
        if (ctx.has('--may-exist')) return;
        const other = ctx.db.get('Chassis', String(cur));
        throw new CtlError(`lport (${ctx.arg(0)}) has already been binded to chassis (${other?.str('name') ?? ''})`);
      }
      pb.set('chassis', { keys: [ch.uuid] });
    },
    ['--may-exist'],
  ),
  cmd(
    'lsp-unbind',
    1,
    1,
    BINDING,
    (ctx) => {
      const pb = portByName(ctx, ctx.arg(0));
      if (pb === undefined) {
        if (ctx.has('--if-exists')) return;
        throw new CtlError(`no port named ${ctx.arg(0)}`);
      }
      pb.set('chassis', { keys: [] });
    },
    ['--if-exists'],
  ),
  cmd('lflow-list', 0, 1, LFLOWS, lflowList, ['--uuid', '--ovs', '--stats', '--vflows']),
  cmd('dump-flows', 0, 1, LFLOWS, lflowList, ['--uuid', '--ovs', '--stats', '--vflows']),
];

export const SBCTL: ToolSpec = {
  program: 'ovn-sbctl',
  database: 'OVN_Southbound',
  envVar: 'OVN_SB_DB',
  defaultDb: 'unix:/var/run/ovn/ovnsb_db.sock',
  tables: TABLE_NAMES,
  rowIds: SB_ROW_IDS,
  commands: [...DB_COMMANDS, ...SB_COMMANDS],
};
