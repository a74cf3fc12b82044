/**
 * Option-table rows several commands share: where the OVN northbound and
 * southbound databases are, and this host's Open vSwitch database.
 */
import { nonEmpty, type OptionSpec } from './options.js';

/** `-d`, `--ovnnb-db=DATABASE` (ovn-northd(8)'s words), into `o.nb`. */
export function ovnnbDbOption<O extends { nb: string }>(): OptionSpec<O> {
  return {
    name: 'ovnnb-db',
    short: 'd',
    arg: 'required',
    metavar: 'DATABASE',
    help: 'connect to ovn-nb database at DATABASE',
    default: '$OVN_NB_DB or unix:/var/run/ovn/ovnnb_db.sock',
    set: (o, v) => void (o.nb = nonEmpty('ovnnb-db', v)),
  };
}

/** `-D`, `--ovnsb-db=DATABASE`, into `o.sb`. */
export function ovnsbDbOption<O extends { sb: string }>(): OptionSpec<O> {
  return {
    name: 'ovnsb-db',
    short: 'D',
    arg: 'required',
    metavar: 'DATABASE',
    help: 'connect to ovn-sb database at DATABASE',
    default: '$OVN_SB_DB or unix:/var/run/ovn/ovnsb_db.sock',
    set: (o, v) => void (o.sb = nonEmpty('ovnsb-db', v)),
  };
}

/** `--db=REMOTE`: the Open vSwitch database of the container tools, into `o.db`. */
export function ovsDbOption<O extends { db: string }>(): OptionSpec<O> {
  return {
    name: 'db',
    arg: 'required',
    metavar: 'REMOTE',
    help: 'Open vSwitch database',
    default: 'unix:$OVS_RUNDIR/db.sock',
    set: (o, v) => void (o.db = nonEmpty('db', v)),
  };
}
