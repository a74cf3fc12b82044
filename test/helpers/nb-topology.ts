/**
 * ovn-nbctl argument lists for the small topologies the controller tests and
 * benches start from, joined with `--` so one nbctl call makes them.
 */

/** Joins command lines into one ovn-nbctl argument list (`a -- b -- c`). */
export function nbctlChain(...cmds: readonly (readonly string[])[]): string[] {
  return cmds.flatMap((c, i) => (i === 0 ? [...c] : ['--', ...c]));
}

export interface SwitchBehindRouterNames {
  /** The switch (made here). Default `sw`. */
  readonly sw?: string;
  /** The router. Default `lr`. */
  readonly lr?: string;
  /** The router port's MAC. Default 02:00:00:00:00:01. */
  readonly mac?: string;
  /** The router is already there (only its port is added). */
  readonly routerExists?: boolean;
}

/**
 * Switch `sw` attached to router `lr` through router port `LR-SW` (address
 * `routerCidr`) and its peer `SW-LR` of type router.
 */
export function switchBehindRouter(routerCidr: string, names: SwitchBehindRouterNames = {}): string[][] {
  const { sw = 'sw', lr = 'lr', mac = '02:00:00:00:00:01' } = names;
  const lrp = `${lr}-${sw}`;
  const lsp = `${sw}-${lr}`;
  return [
    ['ls-add', sw],
    ...(names.routerExists === true ? [] : [['lr-add', lr]]),
    ['lrp-add', lr, lrp, mac, routerCidr],
    ['lsp-add', sw, lsp],
    ['lsp-set-type', lsp, 'router'],
    ['lsp-set-addresses', lsp, 'router'],
    ['lsp-set-options', lsp, `router-port=${lrp}`],
  ];
}

/** The seed lab's second switch `inside` (10.0.0.0/24) on its router tenant1, as the compat tests add it. */
export const INSIDE_BEHIND_TENANT1: readonly string[][] = switchBehindRouter('10.0.0.1/24', {
  sw: 'inside',
  lr: 'tenant1',
  mac: '02:ac:10:ff:02:01',
  routerExists: true,
});
