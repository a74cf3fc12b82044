/**
 * `ovn-integrate COMMAND [ARG...]` (seed 004; CONTAINERS.md §1). The Open
 * vSwitch database is $OVS_RUNDIR/db.sock unless `--db=REMOTE` says otherwise.
 */
import { createIntegrationBridge, nicsToBridge, setEncapType, setIpam, setTep, type IntegrateIo } from '../container/integrate.js';
import { defaultOvsDb } from '../host/ovs-db.js';
import { helpText, parseCommandLine, type CommandLine } from './command-line.js';
import { ovsDbOption } from './db-options.js';

export const OVN_INTEGRATE_COMMAND_LINE: CommandLine<{ db: string }> = {
  program: 'ovn-integrate',
  summary: 'prepare a host for OVN container networking',
  usage: ['ovn-integrate [--db=REMOTE] COMMAND [ARG...]'],
  description: `commands:
  create-integration-bridge   create br-int, the OVN integration bridge
  set-ipam IP                 the central node: IPAM at IP:9696, OVN southbound at tcp:IP:6642
  set-tep IP                  this host's tunnel endpoint (ovn-encap-ip)
  set-encap-type TYPE         geneve (default) or vxlan
  nics-to-bridge IF...        move each IF, with its addresses and routes, onto a bridge brIF`,
  options: [ovsDbOption<{ db: string }>()],
  defaults: () => ({ db: defaultOvsDb() }),
};

export async function ovnIntegrate(args: string[]): Promise<number> {
  const line = parseCommandLine(OVN_INTEGRATE_COMMAND_LINE, args);
  if (typeof line === 'number') return line;
  const { db } = line.options;
  const rest = line.args;
  const io: IntegrateIo = { db, out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };
  const [cmd, ...params] = rest;
  switch (cmd) {
    case undefined:
      process.stdout.write(helpText(OVN_INTEGRATE_COMMAND_LINE));
      return 1;
    case 'create-integration-bridge':
      return createIntegrationBridge(io);
    case 'set-ipam':
      return setIpam(io, params[0]);
    case 'set-tep':
      return setTep(io, params[0]);
    case 'set-encap-type':
      return setEncapType(io, params[0]);
    case 'nics-to-bridge':
      return nicsToBridge(io, params);
    default:
      process.stderr.write(`ovn-integrate: unknown command '${cmd}'; use --help for help\n`);
      return 1;
  }
}
