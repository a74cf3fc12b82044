/**
 * `ovnts trace [OPTIONS] DATAPATH MICROFLOW` — ovn-trace(8): reads the
 * OVN_Southbound database and prints how a packet would pass through the
 * logical flows. Options: `--db=REMOTE` (default $OVN_SB_DB, then
 * unix:/var/run/ovn/ovnsb_db.sock), `--detailed` (default), `--summary`,
 * `--minimal`, `--ct=FLAGS` (repeatable), `--friendly-names`/`--no-friendly-names`.
 */
import { parseSslOption, sslField, SSL_USAGE } from '../ovsdb/ssl-options.js';
import type { SslOptions } from '../ovsdb/remote.js';
import { existsSync } from 'node:fs';
import { errnoText } from '../lib/errno-text.js';
import { OvsdbClient } from '../ovsdb/client.js';
import { rowToModel } from '../ovsdb/client/model-rows.js';
import { ctStateProblem, parseCtFlags, trace, type SbSnapshot, type TraceFormat } from '../trace/index.js';

const TABLES = {
  Datapath_Binding: ['external_ids', 'tunnel_key'],
  Port_Binding: ['logical_port', 'datapath', 'tunnel_key', 'type', 'options', 'port_security', 'mac'],
  Logical_Flow: ['logical_datapath', 'logical_dp_group', 'pipeline', 'table_id', 'priority', 'match', 'actions', 'external_ids'],
  Logical_DP_Group: ['datapaths'],
  Multicast_Group: ['datapath', 'name', 'ports'],
  MAC_Binding: ['datapath', 'logical_port', 'ip', 'mac'],
  Address_Set: ['name', 'addresses'],
  Port_Group: ['name', 'ports'],
} as const;

const USAGE = `ovnts trace: OVN logical network tracer
usage: ovnts trace [OPTIONS] [DATAPATH] MICROFLOW
Output format options:
  --detailed              table-by-table "backtrace" (default)
  --summary               less detailed, more parseable
  --minimal               minimum to explain externally visible behavior
  --all                   provide all forms of output
Other options:
  --db=DATABASE           connect to DATABASE
                          (default: $OVN_SB_DB or unix:/var/run/ovn/ovnsb_db.sock)
  --ct=FLAGS              use FLAGS as conntrack flags (repeatable)
  --friendly-names        use symbolic names (default)
  --no-friendly-names     use UUIDs and tunnel keys
  -h, --help              display this help message
${SSL_USAGE}`;

async function readSnapshot(remote: string, ssl: SslOptions): Promise<SbSnapshot> {
  const client = new OvsdbClient({
    remotes: remote,
    database: 'OVN_Southbound',
    leaderOnly: true,
    tables: TABLES,
    // As ovn-trace: a remote that cannot be reached fails at once, in strerror's words.
    retry: false,
    ...sslField(ssl),
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.start().catch((e: unknown) => {
        const code = (e as { code?: string }).code;
        throw new Error(`database connection failed (${code === undefined ? (e as Error).message : errnoText({ code })})`);
      }),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('database connection failed (Connection timed out)')), 10000);
      }),
    ]);
    const rows = <T extends { _uuid: string }>(t: keyof typeof TABLES): T[] => {
      const schema = client.schema.tables.get(t);
      if (schema === undefined) return [];
      return [...client.table(t).values()].map((r) => rowToModel<T>(r, schema));
    };
    return {
      datapaths: rows('Datapath_Binding'),
      ports: rows('Port_Binding'),
      flows: rows('Logical_Flow'),
      dpGroups: rows('Logical_DP_Group'),
      multicastGroups: rows('Multicast_Group'),
      macBindings: rows('MAC_Binding') as unknown as SbSnapshot['macBindings'][number][],
      addressSets: rows('Address_Set') as unknown as SbSnapshot['addressSets'][number][],
      portGroups: rows('Port_Group') as unknown as SbSnapshot['portGroups'][number][],
    } as unknown as SbSnapshot;
  } finally {
    clearTimeout(timer);
    await client.stop();
  }
}

/** vlog's timestamped line, as ovn-trace writes its warnings to stderr. */
function warnLine(seq: number, msg: string): string {
  const ts = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return `${ts}|${String(seq).padStart(5, '0')}|ovntrace|WARN|${msg}\n`;
}

export async function traceCommand(args: string[]): Promise<number> {
  let format: TraceFormat = 'detailed';
  let db = process.env['OVN_SB_DB'] ?? 'unix:/var/run/ovn/ovnsb_db.sock';
  const ct: number[] = [];
  let friendly = true;
  let all = false;
  const ssl: SslOptions = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    const [name, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = args[++i];
      if (v === undefined) throw new Error(`option '${name}' requires an argument`);
      return v;
    };
    try {
      if (parseSslOption(ssl, name, value)) continue;
      switch (name) {
        case '--detailed':
          format = 'detailed';
          break;
        case '--summary':
          format = 'summary';
          break;
        case '--minimal':
          format = 'minimal';
          break;
        case '--db':
          db = value();
          break;
        case '--ct':
          ct.push(parseCtFlags(value()));
          break;
        case '--friendly-names':
          friendly = true;
          break;
        case '--no-friendly-names':
          friendly = false;
          break;
        case '--all':
          all = true;
          break;
        case '-h':
        case '--help':
          process.stdout.write(USAGE);
          return 0;
        default:
          process.stderr.write(`ovnts trace: unrecognized option '${a}'\n`);
          return 1;
      }
    } catch (e) {
      process.stderr.write(`ovnts trace: ${(e as Error).message}\n`);
      return 1;
    }
  }
  if (positional.length < 1 || positional.length > 2) {
    process.stderr.write('ovnts trace: one or two non-option arguments are required (use --help for help)\n');
    return 1;
  }
  const [datapath, microflow] = positional.length === 2 ? [positional[0], positional[1]!] : [undefined, positional[0]!];
  const path = db.startsWith('unix:') ? db.slice(5) : undefined;
  if (path !== undefined && !existsSync(path)) {
    process.stderr.write(`ovnts trace: ${db}: database connection failed (No such file or directory)\n`);
    return 1;
  }
  let snapshot: SbSnapshot;
  try {
    snapshot = await readSnapshot(db, ssl);
  } catch (e) {
    process.stderr.write(`ovnts trace: ${db}: ${(e as Error).message}\n`);
    return 1;
  }
  const ctWarnings = ct.flatMap((v) => ctStateProblem(v) ?? []);
  const out = trace(snapshot, {
    ...(datapath === undefined ? {} : { datapath }),
    microflow,
    format: all ? 'all' : format,
    ct,
    friendlyNames: friendly,
  });
  process.stdout.write(out.stdout);
  [...ctWarnings, ...out.warnings].forEach((w, i) => process.stderr.write(warnLine(i + 1, w)));
  return out.ok ? 0 : 1;
}
