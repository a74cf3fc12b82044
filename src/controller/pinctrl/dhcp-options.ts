/**
 * The DHCP option codes pinctrl itself emits or reads. The options logical
 * flows carry (put_dhcp_opts) are lib/dhcp-option-codes.ts's one table.
 */

/** DHCP option codes pinctrl itself emits or reads (RFC 2132). */
export const DHCP_OPT = {
  PAD: 0,
  NETMASK: 1,
  ROUTER: 3,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAM_REQUEST_LIST: 55,
  T1: 58,
  T2: 59,
  CLIENT_ID: 61,
  AGENT_INFO: 82,
  END: 255,
} as const;
