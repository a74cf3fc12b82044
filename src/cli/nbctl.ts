/** `ovnts nbctl`: ovn-nbctl(8) through the ovnts OVSDB client, against any OVN_Northbound server. */
import { NBCTL } from '../dbctl/nbctl.js';
import { runCtlTool } from './ctl-tool.js';
import { answerHelp, NB_COMMAND_HELP, NBCTL_OPTIONS, type CtlHelp } from './ctl-help.js';

const HELP: CtlHelp = {
  tool: NBCTL,
  summary: 'OVN northbound DB management utility (ovnts)',
  options: NBCTL_OPTIONS,
  commands: NB_COMMAND_HELP,
};

/** What `ovnts --help` and the help test read. */
export const NBCTL_HELP = { summary: HELP.summary, options: NBCTL_OPTIONS, help: HELP };

export async function nbctl(args: string[]): Promise<number> {
  if (answerHelp(HELP, 'nbctl', args)) return 0;
  return runCtlTool(NBCTL, args);
}
