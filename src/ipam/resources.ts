/**
 * The attribute maps of the resources served, as neutron-lib defines them
 * (`api/definitions/{network,subnet,port,trunk,l3,portbindings,port_security,
 * allowed_address_pairs,network_mtu_writable}.py` plus the standard
 * attributes `description` and `project_id`), merged per resource in the
 * order the Zed server applies them.
 */
import {
  UNSPECIFIED,
  noneToEmptyList,
  toBoolean,
  toCanonicalCidr,
  toCanonicalIp,
  toCanonicalPools,
  toInt,
  toSanitizedMac,
  validAllowedAddressPairs,
  validDictOrNone,
  validFixedIps,
  validHostRoutes,
  validIpOrNone,
  validIpPools,
  validMac,
  validNameservers,
  validNonNegative,
  validString,
  validSubnetOrNone,
  validSubports,
  validUuid,
  validValues,
  type AttrMap,
} from './attributes.js';

const ID = { post: false, put: false, validate: validUuid } as const;
const NAME = { post: true, put: true, default: '', validate: validString(255) } as const;
const TENANT = { post: true, put: false, validate: validString(255) } as const;
const DESCRIPTION = { post: true, put: true, default: '', validate: validString(255) } as const;
const ADMIN_STATE = { post: true, put: true, default: true, convert: toBoolean } as const;
const READ_ONLY = { post: false, put: false } as const;
const IPV6_MODES = ['dhcpv6-stateful', 'dhcpv6-stateless', 'slaac'];

export const NETWORK_ATTRS: AttrMap = {
  id: ID,
  name: NAME,
  subnets: { post: false, put: false, default: [] },
  admin_state_up: ADMIN_STATE,
  status: READ_ONLY,
  tenant_id: TENANT,
  shared: { post: true, put: true, default: false, convert: toBoolean },
  description: DESCRIPTION,
  mtu: { post: true, put: true, default: UNSPECIFIED, convert: toInt, validate: validNonNegative },
  port_security_enabled: { post: true, put: true, default: true, convert: toBoolean },
  'router:external': { post: true, put: true, default: false, convert: toBoolean },
};

export const SUBNET_ATTRS: AttrMap = {
  id: ID,
  name: NAME,
  ip_version: { post: true, put: false, convert: toInt, validate: validValues([4, 6]) },
  network_id: { post: true, put: false, validate: validUuid },
  subnetpool_id: { post: true, put: false, default: UNSPECIFIED, validate: (v) => (v === null ? undefined : validUuid(v)) },
  prefixlen: { post: true, put: false, default: UNSPECIFIED, convert: toInt, validate: validNonNegative },
  cidr: { post: true, put: false, default: UNSPECIFIED, convert: toCanonicalCidr, validate: validSubnetOrNone },
  gateway_ip: { post: true, put: true, default: UNSPECIFIED, convert: toCanonicalIp, validate: validIpOrNone },
  allocation_pools: { post: true, put: true, default: UNSPECIFIED, convert: toCanonicalPools, validate: validIpPools },
  dns_nameservers: { post: true, put: true, default: UNSPECIFIED, convert: noneToEmptyList, validate: validNameservers },
  host_routes: { post: true, put: true, default: UNSPECIFIED, convert: noneToEmptyList, validate: validHostRoutes },
  tenant_id: TENANT,
  enable_dhcp: { post: true, put: true, default: true, convert: toBoolean },
  ipv6_ra_mode: { post: true, put: false, default: UNSPECIFIED, validate: (v) => (v === null ? undefined : validValues(IPV6_MODES)(v)) },
  ipv6_address_mode: {
    post: true,
    put: false,
    default: UNSPECIFIED,
    validate: (v) => (v === null ? undefined : validValues(IPV6_MODES)(v)),
  },
  description: DESCRIPTION,
  service_types: {
    post: true,
    put: true,
    default: [],
    validate: (v) => (Array.isArray(v) && v.length === 0 ? undefined : `'${String(v)}' is not a valid service type`),
  },
};

export const PORT_ATTRS: AttrMap = {
  id: ID,
  name: NAME,
  network_id: { post: true, put: false, validate: validUuid },
  admin_state_up: ADMIN_STATE,
  mac_address: { post: true, put: true, default: UNSPECIFIED, convert: toSanitizedMac, validate: validMac },
  fixed_ips: { post: true, put: true, default: UNSPECIFIED, validate: validFixedIps },
  device_id: { post: true, put: true, default: '', validate: validString(255) },
  device_owner: { post: true, put: true, default: '', validate: validString(255) },
  tenant_id: TENANT,
  status: READ_ONLY,
  description: DESCRIPTION,
  'binding:vif_type': READ_ONLY,
  'binding:vif_details': READ_ONLY,
  'binding:vnic_type': {
    post: true,
    put: true,
    default: 'normal',
    validate: validValues([
      'normal',
      'direct',
      'macvtap',
      'baremetal',
      'direct-physical',
      'virtio-forwarder',
      'smart-nic',
      'vdpa',
      'accelerator-direct',
      'accelerator-direct-physical',
      'remote-managed',
    ]),
  },
  'binding:host_id': { post: true, put: true, default: UNSPECIFIED, validate: validString(255) },
  'binding:profile': { post: true, put: true, default: UNSPECIFIED, validate: validDictOrNone },
  port_security_enabled: { post: true, put: true, default: UNSPECIFIED, convert: toBoolean },
  allowed_address_pairs: { post: true, put: true, default: UNSPECIFIED, convert: noneToEmptyList, validate: validAllowedAddressPairs },
  security_groups: {
    post: true,
    put: true,
    default: UNSPECIFIED,
    convert: noneToEmptyList,
    validate: (v) => (Array.isArray(v) ? undefined : `'${String(v)}' is not a list`),
  },
};

export const TRUNK_ATTRS: AttrMap = {
  admin_state_up: ADMIN_STATE,
  id: ID,
  name: NAME,
  tenant_id: TENANT,
  port_id: { post: true, put: false, validate: validUuid },
  status: READ_ONLY,
  sub_ports: { post: true, put: false, default: [], validate: validSubports },
  description: DESCRIPTION,
};

export const ROUTER_ATTRS: AttrMap = {
  id: ID,
  name: NAME,
  admin_state_up: ADMIN_STATE,
  status: READ_ONLY,
  tenant_id: TENANT,
  external_gateway_info: {
    post: true,
    put: true,
    default: null,
    validate: (v) => (v === null ? undefined : 'external gateways are not supported by ovnts'),
  },
  description: DESCRIPTION,
};
