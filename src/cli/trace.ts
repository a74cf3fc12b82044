/**
 * `ovnts trace [OPTIONS] DATAPATH MICROFLOW` — ovn-trace(8): reads the
 * OVN_Southbound database and prints how a packet would pass through the
 * logical flows. Options: `--db=REMOTE` (default $OVN_SB_DB, then
 * unix:/var/run/ovn/ovnsb_db.sock), `--detailed` (default), `--summary`,
 * `--minimal`, `--ct=FLAGS` (repeatable), `--friendly-names`/`--no-friendly-names`.
 */
import { sslField } from '../ovsdb/ssl-options.js';
import { parseCommandLine, type CommandLine } from './command-line.js';
import { pkiOptions } from './pki-options.js';
import type { SslOptions } from '../ovsdb/remote.js';
import { existsSync } from 'node:fs';
import { errnoText } from '../lib/errno-text.js';
import { OvsdbClient } from '../ovsdb/client.js';
import { snapshotFromClient, TRACE_SB_TABLES } from '../trace/sb-source.js';
import { ctStateProblem, parseCtFlags, trace, type SbSnapshot, type TraceFormat } from '../trace/index.js';

interface Options {
  format: TraceFormat;
  all: boolean;
  db: string;
  ct: number[];
  friendly: boolean;
  ssl: SslOptions;
}

const FORMAT = 'Output format options';
const STYLE = 'Output style options';
const OTHER = 'Other options';

export const TRACE_COMMAND_LINE: CommandLine<Options> = {
  program: 'ovnts trace',
  summary: 'OVN logical network tracer',
  usage: ['ovnts trace [OPTIONS] [DATAPATH] MICROFLOW'],
  options: [
    {
      name: 'detailed',
      help: 'every table the packet passes, with its flow (default)',
      section: FORMAT,
      set: (o) => void (o.format = 'detailed'),
    },
    { name: 'summary', help: 'the actions taken, nested by stage', section: FORMAT, set: (o) => void (o.format = 'summary') },
    { name: 'minimal', help: 'only what is visible outside OVN', section: FORMAT, set: (o) => void (o.format = 'minimal') },
    { name: 'all', help: 'the three forms above, one after the other', section: FORMAT, set: (o) => void (o.all = true) },
    {
      name: 'friendly-names',
      help: 'port and datapath names instead of UUIDs (default)',
      section: STYLE,
      set: (o) => void (o.friendly = true),
    },
    { name: 'no-friendly-names', help: 'UUIDs and tunnel keys instead of names', section: STYLE, set: (o) => void (o.friendly = false) },
    {
      name: 'db',
      arg: 'required',
      metavar: 'DATABASE',
      help: 'read the southbound database at DATABASE',
      default: '$OVN_SB_DB or unix:/var/run/ovn/ovnsb_db.sock',
      section: OTHER,
      set: (o, v) => void (o.db = v ?? ''),
    },
    {
      name: 'ct',
      arg: 'required',
      metavar: 'FLAGS',
      help: 'conntrack state of each ct_next in turn (repeatable),\ne.g. new, est, rel, rpl, inv, trk, dnat, snat',
      section: OTHER,
      set: (o, v) => void o.ct.push(parseCtFlags(v ?? '')),
    },
    ...pkiOptions<Options>(),
  ],
  defaults: () => ({
    format: 'detailed',
    all: false,
    db: process.env['OVN_SB_DB'] ?? 'unix:/var/run/ovn/ovnsb_db.sock',
    ct: [],
    friendly: true,
    ssl: {},
  }),
  finish: (o, args) => {
    if (args.length < 1 || args.length > 2) throw new Error('one or two non-option arguments are required (use --help for help)');
    return o;
  },
};

async function readSnapshot(remote: string, ssl: SslOptions): Promise<SbSnapshot> {
  const client = new OvsdbClient({
    remotes: remote,
    database: 'OVN_Southbound',
    leaderOnly: true,
    tables: TRACE_SB_TABLES,
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
    return snapshotFromClient(client);
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

export async function traceCommand(argv: string[]): Promise<number> {
  const line = parseCommandLine(TRACE_COMMAND_LINE, argv);
  if (typeof line === 'number') return line;
  const { format, all, db, ct, friendly, ssl } = line.options;
  const positional = line.args;
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
