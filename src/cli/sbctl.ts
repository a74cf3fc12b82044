/** `ovnts sbctl`: ovn-sbctl(8) through the ovnts OVSDB client, against any OVN_Southbound server. */
import { SBCTL } from '../dbctl/sbctl.js';
import { runCtlTool } from './ctl-tool.js';
import { answerHelp, SB_COMMAND_HELP, SBCTL_OPTIONS, type CtlHelp } from './ctl-help.js';

const HELP: CtlHelp = {
  tool: SBCTL,
  summary: 'OVN southbound DB management utility (ovnts)',
  options: SBCTL_OPTIONS,
  commands: SB_COMMAND_HELP,
};

/** What `ovnts --help` and the help test read. */
export const SBCTL_HELP = { summary: HELP.summary, options: SBCTL_OPTIONS, help: HELP };

export async function sbctl(args: string[]): Promise<number> {
  if (answerHelp(HELP, 'sbctl', args)) return 0;
  return runCtlTool(SBCTL, args);
}
