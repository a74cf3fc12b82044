/** `ovnts sbctl`: ovn-sbctl(8) through the ovnts OVSDB client, against any OVN_Southbound server. */
import { SBCTL } from '../dbctl/sbctl.js';
import { ctlCommand, SB_COMMAND_HELP, SBCTL_OPTIONS } from './ctl-help.js';

export const SBCTL_COMMAND = ctlCommand(
  { tool: SBCTL, summary: 'OVN southbound DB management utility (ovnts)', options: SBCTL_OPTIONS, commands: SB_COMMAND_HELP },
  'sbctl',
);
export const sbctl = SBCTL_COMMAND.run;
