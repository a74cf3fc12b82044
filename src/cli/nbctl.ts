/** `ovnts nbctl`: ovn-nbctl(8) through the ovnts OVSDB client, against any OVN_Northbound server. */
import { NBCTL } from '../dbctl/nbctl.js';
import { ctlCommand, NB_COMMAND_HELP, NBCTL_OPTIONS } from './ctl-help.js';

export const NBCTL_COMMAND = ctlCommand(
  { tool: NBCTL, summary: 'OVN northbound DB management utility (ovnts)', options: NBCTL_OPTIONS, commands: NB_COMMAND_HELP },
  'nbctl',
);
export const nbctl = NBCTL_COMMAND.run;
