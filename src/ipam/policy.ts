/**
 * Neutron's default policy as far as the served resources need it: a project
 * sees and changes its own resources (others' are "not found", as Neutron
 * answers them), an admin sees every project's, shared networks are visible
 * to all, and `binding:profile` is for admins only
 * (neutron/conf/policies/port.py).
 */
import type { RequestContext } from './context.js';
import { badRequest, NeutronError } from './errors.js';
import { PORT_ATTRS } from './resources.js';

export function canSee(ctx: RequestContext, owner: string, shared = false): boolean {
  return ctx.isAdmin || owner === ctx.projectId || shared;
}

/**
 * The owner of a resource being created: the body's project when an admin
 * names one, else the request's (neutron-lib `_validate_privileges`).
 */
export function ownerFor(ctx: RequestContext, body: Record<string, unknown>): string {
  const given = body['project_id'];
  if (typeof given === 'string' && given !== ctx.projectId) {
    if (!ctx.isAdmin) {
      throw badRequest("Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges");
    }
    return given;
  }
  return ctx.projectId;
}

/** Attributes with a `create_port:<attr>` rule of their own, in the order Neutron composes the check. */
const PORT_ATTR_RULES = [
  'device_owner',
  'mac_address',
  'fixed_ips',
  'port_security_enabled',
  'binding:host_id',
  'binding:profile',
  'allowed_address_pairs',
];

/**
 * 403 PolicyNotAuthorized unless the context may set `binding:profile` on a
 * port; the message names the composed rule as oslo.policy prints it.
 */
export function checkBindingProfile(ctx: RequestContext, action: 'create_port' | 'update_port', body: Record<string, unknown>): void {
  if (ctx.isAdmin || !('binding:profile' in body)) return;
  // Neutron's _is_attribute_explicitly_set: present and not the attribute's default.
  const set = (a: string): boolean => a in body && JSON.stringify(body[a]) !== JSON.stringify(PORT_ATTRS[a]?.default);
  const rules = [`rule:${action}`, ...PORT_ATTR_RULES.filter(set).map((a) => `rule:${action}:${a}`)];
  throw new NeutronError(403, 'PolicyNotAuthorized', `(${rules.join(' and ')}) is disallowed by policy`);
}
