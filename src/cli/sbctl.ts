/** `ovnts sbctl`: ovn-sbctl(8) through the ovnts OVSDB client, against any OVN_Southbound server. */
import { SBCTL } from '../dbctl/sbctl.js';
import { runCtlTool } from './ctl-tool.js';

export function sbctl(args: string[]): Promise<number> {
  return runCtlTool(SBCTL, args);
}
