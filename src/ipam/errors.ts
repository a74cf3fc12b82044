/**
 * Neutron's error bodies: `{"NeutronError": {"type", "message", "detail": ""}}`
 * with the status neutron-lib's `api/faults.py` gives the exception class
 * (NotFound → 404, Conflict/InUse → 409, BadRequest/InvalidInput → 400,
 * NotAuthorized/PolicyNotAuthorized → 403).
 */
export class NeutronError extends Error {
  constructor(
    readonly status: number,
    /** The exception class name Neutron puts in `type`. */
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = 'NeutronError';
  }

  body(): { NeutronError: { type: string; message: string; detail: string } } {
    return { NeutronError: { type: this.type, message: this.message, detail: '' } };
  }
}

/** webob's HTTPBadRequest, which Neutron's API layer raises for body problems. */
export function badRequest(message: string): NeutronError {
  return new NeutronError(400, 'HTTPBadRequest', message);
}

/** neutron-lib `InvalidInput`: "Invalid input for operation: %(error_message)s." */
export function invalidInput(message: string): NeutronError {
  return new NeutronError(400, 'InvalidInput', `Invalid input for operation: ${message}.`);
}

export function conflict(type: string, message: string): NeutronError {
  return new NeutronError(409, type, message);
}

const NOT_FOUND: Record<string, [string, string]> = {
  network: ['NetworkNotFound', 'Network %s could not be found.'],
  subnet: ['SubnetNotFound', 'Subnet %s could not be found.'],
  port: ['PortNotFound', 'Port %s could not be found.'],
  trunk: ['TrunkNotFound', 'Trunk %s could not be found.'],
  // neutron-lib's RouterNotFound has no final period.
  router: ['RouterNotFound', 'Router %s could not be found'],
};

/** The `<Resource>NotFound` error of a resource kind. */
export function notFound(kind: string, id: string): NeutronError {
  const e = NOT_FOUND[kind];
  if (e === undefined) return new NeutronError(404, 'HTTPNotFound', 'The resource could not be found.');
  return new NeutronError(404, e[0], e[1].replace('%s', id));
}

/** The 404 for a path no controller serves. */
export function noSuchResource(): NeutronError {
  return new NeutronError(404, 'HTTPNotFound', 'The resource could not be found.');
}

/** neutron-lib `PolicyNotAuthorized`: "(rule:%(action)s) is disallowed by policy" wrapped by oslo.policy. */
export function policyNotAuthorized(action: string): NeutronError {
  return new NeutronError(403, 'PolicyNotAuthorized', `(rule:${action}) is disallowed by policy.`);
}
