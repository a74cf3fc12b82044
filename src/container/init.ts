/**
 * `ovn-container init --bridge BR --overlay-mode|--underlay-mode`
 * (CONTAINERS.md §2.2): records the mode and bridge; overlay also sets
 * ovn-encap-type=geneve when no type is set. Prints nothing.
 */
import { ToolError, type Session } from './settings.js';

export async function init(s: Session, bridge: string | undefined, overlay: boolean, underlay: boolean): Promise<void> {
  if (!overlay && !underlay) throw new ToolError('Atleast one of --overlay-mode or --underlay-mode has to be specified');
  if (bridge === undefined || !s.db.bridges().includes(bridge)) throw new ToolError(`Bridge ${bridge ?? ''} does not exists`);
  const mode = overlay ? 'overlay' : 'underlay';
  await s.db.editRootIds((ids) => ({
    edit: {
      set: {
        'ovn-mode': mode,
        'ovn-bridge': bridge,
        ...(mode === 'overlay' && !ids.has('ovn-encap-type') ? { 'ovn-encap-type': 'geneve' } : {}),
      },
    },
    result: undefined,
  }));
}
