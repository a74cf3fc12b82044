/**
 * The `ovnts` command: one binary whose first argument names the tool, like
 * the separate programs of OVS and OVN (ovsdb-server, ovsdb-tool, ...).
 */
const COMMANDS: Record<string, () => Promise<(args: string[]) => Promise<number>>> = {
  'ovsdb-server': async () => (await import('./ovsdb-server.js')).ovsdbServer,
  'ovsdb-tool': async () => (await import('./ovsdb-tool.js')).ovsdbTool,
  nbctl: async () => (await import('./nbctl.js')).nbctl,
  sbctl: async () => (await import('./sbctl.js')).sbctl,
  northd: async () => (await import('./northd.js')).northd,
  up: async () => (await import('./up.js')).up,
  lab: async () => (await import('./lab.js')).lab,
  controller: async () => (await import('./controller.js')).controller,
  trace: async () => (await import('./trace.js')).traceCommand,
  ipam: async () => (await import('./ipam.js')).ipam,
  'docker-plugin': async () => (await import('./docker-plugin.js')).dockerPlugin,
  'cni-agent': async () => (await import('./cni-agent.js')).cniAgent,
};

const USAGE = `usage: ovnts COMMAND [ARG...]
commands:
  ovsdb-server [DATABASE...] [--remote=REMOTE]...   serve OVSDB databases
  ovsdb-tool create DBFILE SCHEMAFILE               create a database file
  controller [unix:OVS-DB-SOCK]                      the per-host OVN controller
  up [--rundir=DIR] [--dbdir=DIR]                    NB and SB databases, northd and this host's controller
  lab [--keep | --clean]                             the seed lab end to end on ovnts up
  ipam [--listen=ADDR:PORT] [--ovnnb-db=DATABASE]    the Neutron v2.0 API over the NB
`;

export async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h') {
    process.stdout.write(USAGE);
    process.exitCode = cmd === undefined ? 1 : 0;
    return;
  }
  const load = COMMANDS[cmd];
  if (load === undefined) {
    process.stderr.write(`ovnts: unknown command '${cmd}'; use --help for help\n`);
    process.exitCode = 1;
    return;
  }
  const run = await load();
  const code = await run(rest);
  if (code !== 0 || process.exitCode === undefined) process.exitCode = code;
}
