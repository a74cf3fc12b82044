/**
 * Request bodies checked the way neutron-lib's attribute maps check them
 * (`api/attributes.py`, `api/validators`, `api/converters.py`, and
 * `api/v2/base.py prepare_request_body`), so the same bad input gets the same
 * NeutronError: unknown keys, keys not allowed in POST or PUT, missing
 * required keys, converters (InvalidInput) and validators (HTTPBadRequest
 * "Invalid input for ATTR. Reason: ...").
 */
import { badRequest, invalidInput } from './errors.js';
import { pyStr } from './py-format.js';
import { canonicalIp, canonicalMac, parseCidr, parseIp } from './addresses.js';

/** An attribute's rules. Without `default` the attribute is required on POST. */
export interface AttrSpec {
  readonly post: boolean;
  readonly put: boolean;
  /** The POST default; {@link UNSPECIFIED} leaves the key out for the handler to fill. */
  readonly default?: unknown;
  /** Converts the value; throws InvalidInput for one it cannot take. */
  readonly convert?: (v: unknown) => unknown;
  /** Checks the converted value; returns the reason it is refused. */
  readonly validate?: (v: unknown) => string | undefined;
}

export type AttrMap = Readonly<Record<string, AttrSpec>>;

/** neutron-lib's ATTR_NOT_SPECIFIED: an optional attribute whose default the handler computes. */
export const UNSPECIFIED = Symbol('unspecified');

/**
 * The resource's attributes from a request body `{"<resource>": {...}}`, with
 * POST defaults filled (attributes defaulting to {@link UNSPECIFIED} are absent).
 */
export function parseResourceBody(resource: string, attrs: AttrMap, body: unknown, isCreate: boolean): Record<string, unknown> {
  if (body === undefined || body === null || (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0)) {
    throw badRequest(`Unable to find '${resource}' in request body`);
  }
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('Body contains invalid data');
  const res = (body as Record<string, unknown>)[resource];
  if (res === undefined || res === null) throw badRequest(`Unable to find '${resource}' in request body`);
  if (typeof res !== 'object' || Array.isArray(res)) throw badRequest(`Object '${resource}' contains invalid data`);
  const out: Record<string, unknown> = { ...(res as Record<string, unknown>) };
  // populate_project_info: tenant_id and project_id mirror each other.
  if ('tenant_id' in attrs) {
    if ('project_id' in out && !('tenant_id' in out)) out['tenant_id'] = out['project_id'];
    else if ('tenant_id' in out && !('project_id' in out)) out['project_id'] = out['tenant_id'];
    else if ('tenant_id' in out && out['tenant_id'] !== out['project_id']) {
      throw badRequest("'project_id' and 'tenant_id' do not match");
    }
  }
  const extra = Object.keys(out).filter((k) => !(k in attrs) && k !== 'project_id');
  if (extra.length > 0) throw badRequest(`Unrecognized attribute(s) '${extra.sort().join(', ')}'`);
  if (isCreate) {
    for (const [name, spec] of Object.entries(attrs)) {
      if (spec.post) {
        if (!('default' in spec) && !(name in out) && name !== 'tenant_id') {
          throw badRequest(`Failed to parse request. Required attribute '${name}' not specified`);
        }
        if (!(name in out) && 'default' in spec && spec.default !== UNSPECIFIED) out[name] = structuredClone(spec.default);
      } else if (name in out) {
        throw badRequest(`Attribute '${name}' not allowed in POST`);
      }
    }
  } else {
    for (const [name, spec] of Object.entries(attrs)) {
      if (name in out && !spec.put) throw badRequest(`Cannot update read-only attribute ${name}`);
    }
    if ('project_id' in out) throw badRequest('Cannot update read-only attribute project_id');
  }
  for (const [name, spec] of Object.entries(attrs)) {
    if (!(name in out)) continue;
    if (spec.convert !== undefined) out[name] = spec.convert(out[name]);
    const reason = spec.validate?.(out[name]);
    if (reason !== undefined) throw badRequest(`Invalid input for ${name}. Reason: ${reason}.`);
  }
  if ('tenant_id' in out) out['project_id'] = out['tenant_id'];
  return out;
}

// ---- converters (they throw InvalidInput, as neutron-lib's do) ----

const TRUE_STRINGS = ['1', 't', 'true', 'on', 'y', 'yes'];
const FALSE_STRINGS = ['0', 'f', 'false', 'off', 'n', 'no'];

/** oslo strutils.bool_from_string(strict=True). */
export function toBoolean(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  const s = typeof v === 'string' ? v.trim().toLowerCase() : typeof v === 'number' ? String(v) : undefined;
  if (s !== undefined && TRUE_STRINGS.includes(s)) return true;
  if (s !== undefined && FALSE_STRINGS.includes(s)) return false;
  throw invalidInput(`'${pyStr(v)}' cannot be converted to boolean`);
}

/** Python's int(): ints, integral floats truncated, decimal strings. */
export function toInt(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) return Number(v.trim());
  throw invalidInput(`'${pyStr(v)}' is not an integer`);
}

export function toSanitizedMac(v: unknown): unknown {
  return typeof v === 'string' ? (canonicalMac(v) ?? v) : v;
}

export function toCanonicalIp(v: unknown): unknown {
  return typeof v === 'string' ? canonicalIp(v) : v;
}

/** convert_ip_to_canonical_format on a list of pools' start/end. */
export function toCanonicalPools(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  return v.map((p: unknown) => {
    if (typeof p !== 'object' || p === null || Array.isArray(p)) return p;
    const o = { ...(p as Record<string, unknown>) };
    for (const k of ['start', 'end']) if (typeof o[k] === 'string') o[k] = canonicalIp(o[k]);
    return o;
  });
}

export function noneToEmptyList(v: unknown): unknown {
  return v === null ? [] : v;
}

/** convert_cidr_to_canonical_format: IPv6 CIDRs compressed; IPv4 left as given. */
export function toCanonicalCidr(v: unknown): unknown {
  if (typeof v !== 'string' || !v.includes(':')) return v;
  const slash = v.indexOf('/');
  if (slash < 0) return canonicalIp(v);
  return `${canonicalIp(v.slice(0, slash))}${v.slice(slash)}`;
}

// ---- validators (they return the reason) ----

export function validString(max?: number) {
  return (v: unknown): string | undefined => {
    if (typeof v !== 'string') return `'${pyStr(v)}' is not a valid string`;
    if (max !== undefined && [...v].length > max) return `'${v}' exceeds maximum length of ${max}`;
    return undefined;
  };
}

const UUID_RE = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;

export function isUuidLike(v: unknown): boolean {
  return (
    typeof v === 'string' && /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(v) && UUID_RE.test(v)
  );
}

export function validUuid(v: unknown): string | undefined {
  return isUuidLike(v) ? undefined : `'${pyStr(v)}' is not a valid UUID`;
}

export function validValues(values: readonly unknown[]) {
  return (v: unknown): string | undefined =>
    values.includes(v)
      ? undefined
      : `${pyStr(v)} is not in [${values.map((x) => (typeof x === 'string' ? `'${x}'` : pyStr(x))).join(', ')}]`;
}

export function validMac(v: unknown): string | undefined {
  if (typeof v === 'string' && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(v) && v !== '00:00:00:00:00:00' && v !== 'ff:ff:ff:ff:ff:ff')
    return undefined;
  return `'${pyStr(v)}' is not a valid MAC address`;
}

export function validIp(v: unknown): string | undefined {
  if (typeof v !== 'string' || parseIp(v) === undefined) return `'${pyStr(v)}' is not a valid IP address`;
  return undefined;
}

export function validIpOrNone(v: unknown): string | undefined {
  return v === null ? undefined : validIp(v);
}

export function validSubnetOrNone(v: unknown): string | undefined {
  if (v === null) return undefined;
  const p = typeof v === 'string' ? parseCidr(v) : undefined;
  if (p === undefined) return `'${pyStr(v)}' is not a valid IP subnet`;
  return undefined;
}

export function validNonNegative(v: unknown): string | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v)) return `'${pyStr(v)}' is not an integer`;
  if (v < 0) return `'${v}' should be non-negative`;
  return undefined;
}

function dictKeysReason(expected: readonly string[], d: unknown): string | undefined {
  const exp = `{${expected.map((k) => `'${k}'`).join(', ')}}`;
  if (typeof d !== 'object' || d === null || Array.isArray(d))
    return `Invalid input. '${pyStr(d)}' must be a dictionary with keys: [${expected.map((k) => `'${k}'`).join(', ')}]`;
  const keys = Object.keys(d);
  if (keys.length !== expected.length || !expected.every((k) => keys.includes(k))) {
    return `Validation of dictionary's keys failed. Expected keys: ${exp} Provided keys: {${keys.map((k) => `'${k}'`).join(', ')}}`;
  }
  return undefined;
}

export function validIpPools(v: unknown): string | undefined {
  if (!Array.isArray(v)) return `Invalid data format for IP pool: '${pyStr(v)}'`;
  for (const p of v) {
    const r = dictKeysReason(['start', 'end'], p);
    if (r !== undefined) return r;
    for (const k of ['start', 'end']) {
      const m = validIp((p as Record<string, unknown>)[k]);
      if (m !== undefined) return m;
    }
  }
  return undefined;
}

export function validFixedIps(v: unknown): string | undefined {
  if (!Array.isArray(v)) return `Invalid data format for fixed IP: '${pyStr(v)}'`;
  const seen: unknown[] = [];
  for (const f of v) {
    if (typeof f !== 'object' || f === null || Array.isArray(f)) return `Invalid data format for fixed IP: '${pyStr(f)}'`;
    const o = f as Record<string, unknown>;
    if ('ip_address' in o) {
      if (seen.includes(o['ip_address'])) return `Duplicate IP address '${pyStr(o['ip_address'])}'`;
      const m = validIp(o['ip_address']);
      if (m !== undefined) return m;
      seen.push(o['ip_address']);
    }
    if ('subnet_id' in o) {
      const m = validUuid(o['subnet_id']);
      if (m !== undefined) return m;
    }
  }
  return undefined;
}

export function validNameservers(v: unknown): string | undefined {
  if (!Array.isArray(v)) return `Invalid data format for nameserver: '${pyStr(v)}'`;
  const seen: unknown[] = [];
  for (const h of v) {
    const m = validIp(h);
    if (m !== undefined) return `'${pyStr(h)}' is not a valid nameserver. ${m}`;
    if (seen.includes(h)) return `Duplicate nameserver '${pyStr(h)}'`;
    seen.push(h);
  }
  return undefined;
}

export function validHostRoutes(v: unknown): string | undefined {
  if (!Array.isArray(v)) return `Invalid data format for hostroute: '${pyStr(v)}'`;
  const seen: string[] = [];
  for (const r of v) {
    const k = dictKeysReason(['destination', 'nexthop'], r);
    if (k !== undefined) return k;
    const o = r as Record<string, unknown>;
    const c = typeof o['destination'] === 'string' ? parseCidr(o['destination']) : undefined;
    if (c === undefined || c.hostBitsSet) return `'${pyStr(o['destination'])}' is not a valid CIDR`;
    const m = validIp(o['nexthop']);
    if (m !== undefined) return m;
    const key = JSON.stringify([o['destination'], o['nexthop']]);
    if (seen.includes(key)) return `Duplicate hostroute '${pyStr(r)}'`;
    seen.push(key);
  }
  return undefined;
}

export function validDictOrNone(v: unknown): string | undefined {
  if (v === null || (typeof v === 'object' && !Array.isArray(v))) return undefined;
  return `'${pyStr(v)}' is not a dictionary`;
}

export function validAllowedAddressPairs(v: unknown): string | undefined {
  if (!Array.isArray(v)) return `Allowed address pairs must be a list.`;
  for (const p of v) {
    if (typeof p !== 'object' || p === null || Array.isArray(p)) return `Allowed address pairs must be a list.`;
    const o = p as Record<string, unknown>;
    if (!('ip_address' in o)) return 'AllowedAddressPair must contain ip_address';
    for (const k of Object.keys(o)) if (k !== 'ip_address' && k !== 'mac_address') return `Unrecognized attribute(s) '${k}'`;
    if ('mac_address' in o && validMac(toSanitizedMac(o['mac_address'])) !== undefined)
      return `'${pyStr(o['mac_address'])}' is not a valid MAC address`;
    const ip = o['ip_address'];
    if (typeof ip !== 'string' || (parseIp(ip) === undefined && parseCidr(ip) === undefined)) {
      return `'${pyStr(ip)}' is not a valid IP address`;
    }
  }
  return undefined;
}

export function validSubports(v: unknown): string | undefined {
  if (!Array.isArray(v)) return `Invalid data format for subports: '${pyStr(v)}' is not a list`;
  const ids = new Set<unknown>();
  const segs = new Map<unknown, Set<unknown>>();
  for (const s of v) {
    if (typeof s !== 'object' || s === null || Array.isArray(s)) return `Invalid data format for subport: '${pyStr(s)}' is not a dict`;
    const o = s as Record<string, unknown>;
    if (!('port_id' in o)) return 'A valid port UUID must be specified';
    if (validUuid(o['port_id']) !== undefined) return `Invalid UUID for subport: '${pyStr(o['port_id'])}'`;
    if (ids.has(o['port_id'])) return `Non unique UUID for subport: '${pyStr(o['port_id'])}'`;
    ids.add(o['port_id']);
    const type = o['segmentation_type'];
    if (type === 'inherit') return undefined;
    const id = o['segmentation_id'];
    if ((type === undefined || type === '' || type === null || id === undefined || id === null) && Object.keys(o).length > 1) {
      return `Invalid subport details '${pyStr(s)}': missing segmentation information. Must specify both segmentation_id and segmentation_type`;
    }
    const set = segs.get(type) ?? new Set();
    if (set.has(id)) return `Segmentation ID '${pyStr(id)}' for '${pyStr(o['port_id'])}' is not unique`;
    if (id !== undefined && id !== null) set.add(id);
    segs.set(type, set);
  }
  return undefined;
}
