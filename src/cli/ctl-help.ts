/**
 * `--help` and `--version` of `ovnts nbctl` and `ovnts sbctl`, in the layout
 * of ovn-nbctl(8)'s and ovn-sbctl(8)'s help: the commands by section, each
 * with its per-command options on the line above, then the global options.
 * The commands and their options come from the engine's tables
 * (src/dbctl), so a command the engine gains without a help line is caught
 * by test/unit/cli-help.test.ts.
 */
import type { CommandSpec, ToolSpec } from '../dbctl/ctl.js';
import { HELP_OPTIONS, renderHelp, type OptionHelp } from './options.js';
import { versionText } from './version.js';
import { runCtlTool } from './ctl-tool.js';

/** A command's help: its section, its arguments and what it does. */
export type CommandLineHelp = readonly [section: string, args: string, what: string];

const GENERAL = 'General commands';
const DATABASE = 'Database commands';

/** The database commands both tools share (ovs-vsctl(8) "Database Commands"). */
export const DB_COMMAND_HELP: Readonly<Record<string, CommandLineHelp>> = {
  list: [DATABASE, 'TBL [REC]', 'list RECord (or all records) in TBL'],
  find: [DATABASE, 'TBL CONDITION...', 'list records satisfying CONDITION in TBL'],
  get: [DATABASE, 'TBL REC COL[:KEY]', 'print values of COLumns in RECord in TBL'],
  set: [DATABASE, 'TBL REC COL[:KEY]=VALUE', 'set COLumn values in RECord in TBL'],
  add: [DATABASE, 'TBL REC COL [KEY=]VALUE', 'add (KEY=)VALUE to COLumn in RECord in TBL'],
  remove: [DATABASE, 'TBL REC COL [KEY=]VALUE', 'remove (KEY=)VALUE from COLumn'],
  clear: [DATABASE, 'TBL REC COL', 'clear values from COLumn in RECord in TBL'],
  create: [DATABASE, 'TBL COL[:KEY]=VALUE', 'create and initialize new record'],
  destroy: [DATABASE, 'TBL REC', 'delete RECord from TBL'],
  'wait-until': [DATABASE, 'TBL REC [COL[:KEY]=VALUE]', 'wait until condition is true'],
};

const LS = 'Logical switch commands';
const LSP = 'Logical switch port commands';
const LR = 'Logical router commands';
const LRP = 'Logical router port commands';
const ROUTE = 'Route commands';
const ACL = 'ACL commands';
const DHCP = 'DHCP Options commands';
const PG = 'Port group commands';
const SYNC = 'Synchronization command (use with --wait=sb|hv)';

export const NB_COMMAND_HELP: Readonly<Record<string, CommandLineHelp>> = {
  show: [GENERAL, '[SWITCH | ROUTER]', 'overview of the database, or of SWITCH or ROUTER'],
  'ls-add': [LS, '[SWITCH]', 'create a logical switch named SWITCH'],
  'ls-del': [LS, 'SWITCH', 'delete SWITCH and all its ports'],
  'ls-list': [LS, '', 'print the names of all logical switches'],
  'acl-add': [ACL, '{SWITCH | PORTGROUP} DIRECTION PRIORITY MATCH ACTION', 'add an ACL to SWITCH or PORTGROUP'],
  'acl-del': [ACL, '{SWITCH | PORTGROUP} [DIRECTION [PRIORITY MATCH]]', 'remove ACLs from SWITCH or PORTGROUP'],
  'acl-list': [ACL, '{SWITCH | PORTGROUP}', 'print the ACLs of SWITCH or PORTGROUP'],
  'lsp-add': [LSP, 'SWITCH PORT [PARENT TAG]', 'add PORT on SWITCH (a container port of PARENT\non VLAN TAG, when given)'],
  'lsp-del': [LSP, 'PORT', 'delete PORT from its switch'],
  'lsp-list': [LSP, 'SWITCH', 'print the names of the ports on SWITCH'],
  'lsp-get-parent': [LSP, 'PORT', "print PORT's parent port, if any"],
  'lsp-get-tag': [LSP, 'PORT', "print PORT's VLAN tag, if any"],
  'lsp-set-addresses': [LSP, 'PORT [ADDRESS]...', 'set the MAC (or MAC and IP) addresses of PORT'],
  'lsp-get-addresses': [LSP, 'PORT', 'print the addresses of PORT'],
  'lsp-set-port-security': [LSP, 'PORT [ADDRS]...', 'set the port security addresses of PORT'],
  'lsp-get-port-security': [LSP, 'PORT', 'print the port security addresses of PORT'],
  'lsp-get-up': [LSP, 'PORT', "print PORT's state ('up' or 'down')"],
  'lsp-set-enabled': [LSP, 'PORT STATE', "set PORT's administrative state\n('enabled' or 'disabled')"],
  'lsp-get-enabled': [LSP, 'PORT', "print PORT's administrative state"],
  'lsp-set-type': [LSP, 'PORT TYPE', 'set the type of PORT'],
  'lsp-get-type': [LSP, 'PORT', 'print the type of PORT'],
  'lsp-set-options': [LSP, 'PORT KEY=VALUE...', 'set the type-specific options of PORT'],
  'lsp-get-options': [LSP, 'PORT', 'print the type-specific options of PORT'],
  'lsp-set-dhcpv4-options': [LSP, 'PORT [DHCP_OPTIONS_UUID]', 'set (or clear) the DHCPv4 options of PORT'],
  'lsp-get-dhcpv4-options': [LSP, 'PORT', 'print the DHCPv4 options of PORT'],
  'lr-add': [LR, '[ROUTER]', 'create a logical router named ROUTER'],
  'lr-del': [LR, 'ROUTER', 'delete ROUTER and all its ports'],
  'lr-list': [LR, '', 'print the names of all logical routers'],
  'lrp-add': [LRP, 'ROUTER PORT MAC NETWORK... [peer=PEER]', 'add PORT on ROUTER'],
  'lrp-del': [LRP, 'PORT', 'delete PORT from its router'],
  'lrp-list': [LRP, 'ROUTER', 'print the names of the ports on ROUTER'],
  'lrp-set-enabled': [LRP, 'PORT STATE', "set PORT's administrative state\n('enabled' or 'disabled')"],
  'lrp-get-enabled': [LRP, 'PORT', "print PORT's administrative state"],
  'lr-route-add': [ROUTE, 'ROUTER PREFIX NEXTHOP [PORT]', 'add a static route to ROUTER'],
  'lr-route-del': [ROUTE, 'ROUTER [PREFIX [NEXTHOP [PORT]]]', 'remove static routes from ROUTER'],
  'lr-route-list': [ROUTE, 'ROUTER', 'print the static routes of ROUTER'],
  'dhcp-options-create': [DHCP, 'CIDR [EXTERNAL_IDS]', 'create a DHCP_Options row for CIDR'],
  'dhcp-options-del': [DHCP, 'DHCP_OPTIONS_UUID', 'delete DHCP_OPTIONS_UUID'],
  'dhcp-options-list': [DHCP, '', 'list the DHCP_Options rows'],
  'dhcp-options-set-options': [DHCP, 'DHCP_OPTIONS_UUID KEY=VALUE...', 'set the options of DHCP_OPTIONS_UUID'],
  'dhcp-options-get-options': [DHCP, 'DHCP_OPTIONS_UUID', 'print the options of DHCP_OPTIONS_UUID'],
  'pg-add': [PG, 'PG [PORTS]', 'create port group PG with PORTS'],
  'pg-set-ports': [PG, 'PG PORTS', 'set the ports of port group PG'],
  'pg-del': [PG, 'PG', 'delete port group PG'],
  sync: [SYNC, '', 'wait even for earlier changes to take effect'],
  ...DB_COMMAND_HELP,
};

const CHASSIS = 'Chassis commands';
const BINDING = 'Port binding commands';
const LFLOW = 'Logical flow commands';

export const SB_COMMAND_HELP: Readonly<Record<string, CommandLineHelp>> = {
  show: [GENERAL, '', 'print overview of database contents'],
  'chassis-add': [CHASSIS, 'CHASSIS ENCAP-TYPE ENCAP-IP', 'create a new chassis named CHASSIS'],
  'chassis-del': [CHASSIS, 'CHASSIS', 'delete CHASSIS and its encapsulations'],
  'lsp-bind': [BINDING, 'PORT CHASSIS', 'bind logical port PORT to CHASSIS'],
  'lsp-unbind': [BINDING, 'PORT', 'reset the binding of logical port PORT'],
  'lflow-list': [LFLOW, '[DATAPATH]', 'list the logical flows (of DATAPATH)'],
  'dump-flows': [LFLOW, '[DATAPATH]', 'alias for lflow-list'],
  ...DB_COMMAND_HELP,
};

const OUTPUT = 'Output formatting options';
const LOGGING = 'Logging options';
const PKI = 'PKI configuration (required to use SSL)';

/** The global options the db-ctl engine takes (src/dbctl/ctl.ts), nbctl's --wait aside. */
function ctlOptions(defaultDb: string): OptionHelp[] {
  return [
    { name: 'db', arg: 'required', metavar: 'DATABASE', help: 'connect to DATABASE', default: defaultDb },
    { name: 'no-leader-only', help: 'accept any cluster member, not just the leader' },
    { name: 'leader-only', help: 'use only the cluster leader (the default)' },
    { name: 'no-shuffle-remotes', help: 'accepted (remotes are tried in the order given)' },
    { name: 'shuffle-remotes', help: 'accepted (remotes are tried in the order given)' },
    { name: 'timeout', short: 't', arg: 'required', metavar: 'SECS', help: 'wait at most SECS seconds' },
    { name: 'dry-run', help: 'do not commit changes to database' },
    { name: 'oneline', help: 'print exactly one line of output per command' },
    {
      name: 'format',
      short: 'f',
      arg: 'required',
      metavar: 'FORMAT',
      help: 'set output formatting to FORMAT\n("list", "table", "csv", "json" or "html")',
      section: OUTPUT,
    },
    {
      name: 'data',
      arg: 'required',
      metavar: 'FORMAT',
      help: 'set table cell output formatting to\nFORMAT ("string", "bare", or "json")',
      section: OUTPUT,
    },
    { name: 'no-headings', help: 'omit table heading row', section: OUTPUT },
    { name: 'pretty', help: 'accepted (JSON is printed on one line)', section: OUTPUT },
    { name: 'bare', help: 'equivalent to "--format=list --data=bare --no-headings"', section: OUTPUT },
    { name: 'verbose', short: 'v', arg: 'optional', metavar: 'SPEC', help: 'accepted for compatibility', section: LOGGING },
    { name: 'log-file', arg: 'optional', metavar: 'FILE', help: 'accepted for compatibility', section: LOGGING },
    { name: 'no-syslog', help: 'accepted for compatibility', section: LOGGING },
    { name: 'private-key', short: 'p', arg: 'required', metavar: 'FILE', help: 'file with private key', section: PKI },
    { name: 'certificate', short: 'c', arg: 'required', metavar: 'FILE', help: 'file with certificate for private key', section: PKI },
    { name: 'ca-cert', short: 'C', arg: 'required', metavar: 'FILE', help: 'file with peer CA certificate', section: PKI },
    { name: 'bootstrap-ca-cert', arg: 'required', metavar: 'FILE', help: 'file with peer CA certificate to read or create', section: PKI },
    { name: 'peer-ca-cert', arg: 'required', metavar: 'FILE', help: 'file with extra CA certificate to send to the peer', section: PKI },
    { name: 'ssl-protocols', arg: 'required', metavar: 'PROTOS', help: 'list of SSL protocols to enable', section: 'SSL options' },
    { name: 'ssl-ciphers', arg: 'required', metavar: 'CIPHERS', help: 'list of SSL ciphers to enable', section: 'SSL options' },
  ];
}

export const NBCTL_OPTIONS: readonly OptionHelp[] = [
  ...ctlOptions('$OVN_NB_DB or unix:/var/run/ovn/ovnnb_db.sock'),
  { name: 'no-wait', help: 'do not wait for OVN reconfiguration (default)' },
  {
    name: 'wait',
    arg: 'required',
    metavar: 'none|sb|hv',
    help: 'wait for northd (sb) or for every chassis (hv)\nto catch up with the change',
  },
  { name: 'print-wait-time', help: 'accepted for compatibility' },
];

export const SBCTL_OPTIONS: readonly OptionHelp[] = ctlOptions('$OVN_SB_DB or unix:/var/run/ovn/ovnsb_db.sock');

/** Column where a command's help starts, as in ovn-nbctl --help. */
const COLUMN = 28;

/** One command's lines: its options (from the engine's table) above, its synopsis and what it does. */
function commandLines(c: CommandSpec, h: CommandLineHelp): string {
  const opts = c.options.map((o) => (o.endsWith('=') ? `[${o}${o.slice(2, -1).toUpperCase()}]` : `[${o}]`));
  const synopsis = `  ${c.name}${h[1] === '' ? '' : ` ${h[1]}`}`;
  const [first = '', ...more] = h[2].split('\n');
  const pad = ' '.repeat(COLUMN);
  const head = synopsis.length < COLUMN - 1 ? `${synopsis.padEnd(COLUMN)}${first}` : `${synopsis}\n${pad}${first}`;
  return [...(opts.length === 0 ? [] : [`  ${opts.join(' ')}`]), head, ...more.map((l) => `${pad}${l}`)].join('\n') + '\n';
}

/** The commands part of the help, by section in the order of the help table. */
export function commandsHelp(tool: ToolSpec, help: Readonly<Record<string, CommandLineHelp>>): string {
  const missing = tool.commands.filter((c) => help[c.name] === undefined).map((c) => c.name);
  if (missing.length > 0) throw new Error(`${tool.program}: no help for ${missing.join(', ')}`);
  const sections = new Map<string, string[]>();
  for (const [name, h] of Object.entries(help)) {
    const c = tool.commands.find((x) => x.name === name);
    if (c !== undefined) sections.set(h[0], [...(sections.get(h[0]) ?? []), commandLines(c, h)]);
  }
  return [...sections].map(([name, lines]) => `${name}:\n${lines.join('')}`).join('\n');
}

export interface CtlHelp {
  readonly tool: ToolSpec;
  readonly summary: string;
  readonly options: readonly OptionHelp[];
  readonly commands: Readonly<Record<string, CommandLineHelp>>;
}

export function ctlHelpText(h: CtlHelp, command: string): string {
  const cmds = commandsHelp(h.tool, h.commands);
  return renderHelp(
    {
      program: h.tool.program,
      summary: `${h.summary}`,
      usage: [`ovnts ${command} [OPTIONS] COMMAND [ARG...]`],
      description: `\n${cmds}\nCommands are separated by "--"; options before a command apply to it.`,
    },
    h.options,
  );
}

/**
 * 'help' or 'version' when the global options (those before the first
 * command) ask for it; undefined to run the tool. Values of options that take
 * one are skipped, so `--db REMOTE --help` still asks for help.
 */
export function askedFor(args: readonly string[], options: readonly OptionHelp[]): 'help' | 'version' | undefined {
  const all = [...options, ...HELP_OPTIONS];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--' || !a.startsWith('-') || a === '-') return undefined;
    const long = a.startsWith('--');
    const name = long ? a.slice(2).replace(/=.*$/, '') : undefined;
    const spec = long ? all.find((o) => o.name === name) : all.find((o) => o.short === a[1]);
    if (spec?.name === 'help' || spec?.name === 'version') return spec.name;
    const inline = long ? a.includes('=') : a.length > 2;
    if (spec?.arg === 'required' && !inline) i++;
  }
  return undefined;
}

/** The `ovnts nbctl`/`ovnts sbctl` command: its help and options for the command table, and its run. */
export function ctlCommand(
  h: CtlHelp,
  command: string,
): { summary: string; options: readonly OptionHelp[]; run: (args: string[]) => Promise<number> } {
  return {
    summary: h.summary,
    options: h.options,
    run: async (args) => {
      const asked = askedFor(args, h.options);
      if (asked === undefined) return runCtlTool(h.tool, args);
      process.stdout.write(asked === 'help' ? ctlHelpText(h, command) : versionText(h.tool.program));
      return 0;
    },
  };
}
