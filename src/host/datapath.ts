/**
 * Which Open vSwitch datapath this host can run: the kernel one where the
 * openvswitch module is loaded, the userspace (`netdev`) one otherwise.
 */
import { existsSync } from 'node:fs';

export function bridgeDatapathType(): 'system' | 'netdev' {
  const forced = process.env['OVNTS_DATAPATH_TYPE'];
  if (forced === 'system' || forced === 'netdev') return forced;
  return existsSync('/sys/module/openvswitch') ? 'system' : 'netdev';
}
