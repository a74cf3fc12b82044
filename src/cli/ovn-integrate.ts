/**
 * `ovn-integrate COMMAND [ARG...]` (seed 004; CONTAINERS.md §1). The Open
 * vSwitch database is $OVS_RUNDIR/db.sock unless `--db=REMOTE` says otherwise.
 */
import { createIntegrationBridge, nicsToBridge, setEncapType, setIpam, setTep, type IntegrateIo } from '../container/integrate.js';
import { defaultOvsDb } from '../host/ovs-db.js';

const USAGE = `ovn-integrate: prepare a host for OVN container networking
usage: ovn-integrate [--db=REMOTE] COMMAND [ARG...]
commands:
  create-integration-bridge   create br-int, the OVN integration bridge
  set-ipam IP                 the central node: IPAM at IP:9696, OVN southbound at tcp:IP:6642
  set-tep IP                  this host's tunnel endpoint (ovn-encap-ip)
  set-encap-type TYPE         geneve (default) or vxlan
  nics-to-bridge IF...        move each IF, with its addresses and routes, onto a bridge brIF
options:
  --db=REMOTE                 Open vSwitch database (default: unix:$OVS_RUNDIR/db.sock)
  -h, --help                  this help
`;

export async function ovnIntegrate(args: string[]): Promise<number> {
  let db = defaultOvsDb();
  const rest: string[] = [];
  for (const a of args) {
    if (a.startsWith('--db=')) db = a.slice('--db='.length);
    else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE);
      return 0;
    } else rest.push(a);
  }
  const io: IntegrateIo = { db, out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };
  const [cmd, ...params] = rest;
  switch (cmd) {
    case undefined:
      process.stdout.write(USAGE);
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
