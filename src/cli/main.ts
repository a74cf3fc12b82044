/**
 * The `ovnts` command: one binary whose first argument names the tool, like
 * the separate programs of OVS and OVN (ovsdb-server, ovsdb-tool, ...).
 * Commands load on demand: `ovnts nbctl` must not pay for the controller.
 */
import type { OptionHelp } from './options.js';
import { packageVersion } from './version.js';

/** What a command is, once loaded: how to run it and the options it declares. */
export interface LoadedCommand {
  readonly run: (args: string[]) => Promise<number>;
  readonly options: readonly OptionHelp[];
  /** The summary its own --help prints (the same words as the table's). */
  readonly summary: string;
}

export interface CommandEntry {
  /** One line for `ovnts --help`. */
  readonly summary: string;
  /** Its arguments, for `ovnts --help`. */
  readonly synopsis: string;
  readonly load: () => Promise<LoadedCommand>;
}

export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  'ovsdb-server': {
    summary: 'OVSDB server (ovnts)',
    synopsis: '[OPTIONS] DATABASE...',
    load: async () => {
      const m = await import('./ovsdb-server.js');
      return { run: m.ovsdbServer, ...m.OVSDB_SERVER_COMMAND_LINE };
    },
  },
  'ovsdb-tool': {
    summary: 'Open vSwitch database management utility (ovnts)',
    synopsis: '[OPTIONS] COMMAND [ARG...]',
    load: async () => {
      const m = await import('./ovsdb-tool.js');
      return { run: m.ovsdbTool, ...m.OVSDB_TOOL_COMMAND_LINE };
    },
  },
  nbctl: {
    summary: 'OVN northbound DB management utility (ovnts)',
    synopsis: '[OPTIONS] COMMAND [ARG...]',
    load: async () => {
      const m = await import('./nbctl.js');
      return m.NBCTL_COMMAND;
    },
  },
  sbctl: {
    summary: 'OVN southbound DB management utility (ovnts)',
    synopsis: '[OPTIONS] COMMAND [ARG...]',
    load: async () => {
      const m = await import('./sbctl.js');
      return m.SBCTL_COMMAND;
    },
  },
  northd: {
    summary: 'OVN northbound management daemon (ovnts)',
    synopsis: '[OPTIONS]',
    load: async () => {
      const m = await import('./northd.js');
      return { run: m.northd, ...m.NORTHD_COMMAND_LINE };
    },
  },
  controller: {
    summary: 'OVN controller (ovnts)',
    synopsis: '[OPTIONS] [OVS-DATABASE]',
    load: async () => {
      const m = await import('./controller.js');
      return { run: m.controller, ...m.CONTROLLER_COMMAND_LINE };
    },
  },
  trace: {
    summary: 'OVN logical network tracer',
    synopsis: '[OPTIONS] [DATAPATH] MICROFLOW',
    load: async () => {
      const m = await import('./trace.js');
      return { run: m.traceCommand, ...m.TRACE_COMMAND_LINE };
    },
  },
  up: {
    summary: "NB and SB databases, northd and this host's controller in one process (ovnts)",
    synopsis: '[OPTIONS]',
    load: async () => {
      const m = await import('./up.js');
      return { run: m.up, ...m.UP_COMMAND_LINE };
    },
  },
  lab: {
    summary: 'the seed lab end to end on ovnts up, step by step PASS/FAIL',
    synopsis: '[OPTIONS]',
    load: async () => {
      const m = await import('./lab.js');
      return { run: m.lab, ...m.LAB_COMMAND_LINE };
    },
  },
  ipam: {
    summary: 'the Neutron v2.0 API over the OVN northbound database (ovnts)',
    synopsis: '[OPTIONS]',
    load: async () => {
      const m = await import('./ipam.js');
      return { run: m.ipam, ...m.IPAM_COMMAND_LINE };
    },
  },
  'docker-plugin': {
    summary: 'libnetwork remote network and IPAM driver on the ovnts IPAM (ovnts)',
    synopsis: '[OPTIONS]',
    load: async () => {
      const m = await import('./docker-plugin.js');
      return { run: m.dockerPlugin, ...m.DOCKER_PLUGIN_COMMAND_LINE };
    },
  },
  'cni-agent': {
    summary: 'the resident side of the ovnts CNI plugin (ovnts)',
    synopsis: '[OPTIONS]',
    load: async () => {
      const m = await import('./cni-agent.js');
      return { run: m.cniAgent, ...m.CNI_AGENT_COMMAND_LINE };
    },
  },
  ui: {
    summary: 'the live topology and trace page (ovnts)',
    synopsis: '[OPTIONS]',
    load: async () => {
      const m = await import('./ui.js');
      return { run: m.ui, ...m.UI_COMMAND_LINE };
    },
  },
};

/** `ovnts --help`: every command with its one line. */
export function mainHelp(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => [`${name} ${c.synopsis}`, c.summary] as const);
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return `ovnts: OVN's container networking in TypeScript
usage: ovnts COMMAND [ARG...]
       ovnts COMMAND --help
       ovnts --version

Commands:
${rows.map(([l, s]) => `  ${l.padEnd(width)}${s}\n`).join('')}
Container tools (their own executables): ovn-integrate, ovn-container, ovnts-cni.
The reference pages are docs/ovnts-COMMAND.md.
`;
}

export async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h') {
    process.stdout.write(mainHelp());
    process.exitCode = cmd === undefined ? 1 : 0;
    return;
  }
  if (cmd === '--version' || cmd === '-V') {
    process.stdout.write(`ovnts ${packageVersion()}\n`);
    process.exitCode = 0;
    return;
  }
  const entry = COMMANDS[cmd];
  if (entry === undefined) {
    process.stderr.write(`ovnts: unknown command '${cmd}'; use --help for help\n`);
    process.exitCode = 1;
    return;
  }
  const { run } = await entry.load();
  const code = await run(rest);
  if (code !== 0 || process.exitCode === undefined) process.exitCode = code;
}
