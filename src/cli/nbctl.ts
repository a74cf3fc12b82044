/** `ovnts nbctl`: ovn-nbctl(8) through the ovnts OVSDB client, against any OVN_Northbound server. */
import { NBCTL } from '../dbctl/nbctl.js';
import { runCtlTool } from './ctl-tool.js';

export function nbctl(args: string[]): Promise<number> {
  return runCtlTool(NBCTL, args);
}
