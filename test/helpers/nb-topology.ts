/**
 * ovn-nbctl argument lists for the small topologies the controller tests and
 * benches start from, joined with `--` so one nbctl call makes them.
 */

/** Joins command lines into one ovn-nbctl argument list (`a -- b -- c`). */
export function nbctlChain(...cmds: readonly (readonly string[])[]): string[] {
  return cmds.flatMap((c, i) => (i === 0 ? [...c] : ['--', ...c]));
}

/**
 * Switch `sw` attached to router `lr` through router port `lr-sw` (MAC
 * 02:00:00:00:00:01, address `routerCidr`) and its peer `sw-lr`.
 */
export function switchBehindRouter(routerCidr: string): string[][] {
  return [
    ['ls-add', 'sw'],
    ['lr-add', 'lr'],
    ['lrp-add', 'lr', 'lr-sw', '02:00:00:00:00:01', routerCidr],
    ['lsp-add', 'sw', 'sw-lr'],
    ['lsp-set-type', 'sw-lr', 'router'],
    ['lsp-set-addresses', 'sw-lr', 'router'],
    ['lsp-set-options', 'sw-lr', 'router-port=lr-sw'],
  ];
}
