/**
 * The logical-flow builders (see nb-view.ts for what each may read). Pure: NB in,
 * `add()` calls out.
 */
export { buildSwitchFlows, buildSwitchPortFlows, switchPortSummary, isStateful, aclsStateful, switchAcls, validateAcl, aclLookups } from './switch.js';
export { buildRouterFlows, buildRouterPortFlows, routerPortNetworks } from './router.js';
