/**
 * The ovn-appctl commands of each daemon, registered on a control socket:
 * the separate daemons (`ovnts northd`, `ovnts controller`) and `ovnts up`,
 * which runs them in one process, serve the same ones.
 */
import type { Controller } from '../controller/controller.js';
import type { Northd } from '../northd/northd.js';
import type { UnixctlServer } from '../lib/unixctl.js';

/** ovn-northd(8) "RUNTIME MANAGEMENT COMMANDS" that apply here. */
export function registerNorthdCommands(ctl: UnixctlServer, n: Northd): void {
  ctl.register('status', '', 0, 0, () => `Status: ${n.status()}\n`);
  ctl.register('debug/recompute-check', '', 0, 0, () => {
    const diff = n.recomputeCheck();
    return diff.length === 0 ? 'incremental flows equal a full recompute\n' : `${diff.join('\n')}\n`;
  });
}

/** ovn-controller(8) "OVN-CONTROLLER UNIXCTL COMMANDS" that apply here (exit and version are the daemon's). */
export function registerControllerCommands(ctl: UnixctlServer, c: Controller): void {
  ctl.register('connection-status', '', 0, 0, () => (c.sbConnected ? 'connected\n' : 'not connected\n'));
  // Replies once the flows computed from scratch are installed (a barrier for tests).
  ctl.register('recompute', '', 0, 0, async () => {
    await c.recompute();
    return '';
  });
  ctl.register('ct-zone-list', '', 0, 0, () =>
    [...(c.facts?.ctZones ?? new Map<string, number>())].map(([name, zone]) => `${name} ${zone}\n`).join(''),
  );
}
