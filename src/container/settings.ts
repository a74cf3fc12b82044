/**
 * What every ovn-container command starts from (CONTAINERS.md §2.1): the
 * mode and bridge in `Open_vSwitch . external_ids` (ovn-mode, ovn-bridge),
 * and the Neutron client the mode calls for — noauth against the IPAM named
 * by `external_ids:ipam` (overlay), or Keystone with the openrc variables
 * and the VM's port in OS_VIF_ID (underlay).
 */
import { NeutronClient, NeutronError, type KeystoneCredentials } from '../host/neutron.js';
import type { OvsDb } from '../host/ovs-db.js';
import type { ContainerRuntime } from '../host/container-runtime.js';
import { parseHostPort } from './integrate.js';

/** Neutron's API port. */
export const IPAM_PORT = 9696;

export type Mode = 'overlay' | 'underlay';

/** A refusal: its message goes to stderr and the command exits 1. */
export class ToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolError';
  }
}

/** Everything a command needs, opened once. */
export interface Session {
  readonly db: OvsDb;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** When the command began (performance.now()), for OVNTS_TIMING; default: the process's start. */
  readonly since?: number;
  /** A resident process's Keystone login, kept between commands; default: one login per command. */
  readonly keystone?: (c: KeystoneCredentials, endpoint: string | undefined) => Promise<NeutronClient>;
  /** The runtime, started on first use (detected or --runtime). */
  runtime(): Promise<ContainerRuntime>;
}

export interface Setup {
  readonly mode: Mode;
  readonly bridge: string;
  readonly neutron: NeutronClient;
  /** OS_VIF_ID: the VM's Neutron port (underlay). */
  readonly vifId?: string;
}

/** The sanity check of every command but init: mode set, bridge present. */
export function modeAndBridge(s: Session): { mode: Mode; bridge: string } {
  const ids = s.db.rootIds();
  const mode = ids.get('ovn-mode');
  if (mode !== 'overlay' && mode !== 'underlay') throw new ToolError('OVN mode not set.');
  const bridge = ids.get('ovn-bridge');
  if (bridge === undefined || !s.db.bridges().includes(bridge)) throw new ToolError('OVN bridge is not set or seen');
  return { mode, bridge };
}

function requireEnv(s: Session, name: string): string {
  const v = s.env[name];
  if (v === undefined || v === '') throw new ToolError(`env ${name} not set`);
  return v;
}

/**
 * The project of the openrc file: the seed's OS_TENANT_ID, or what later
 * openrc files export instead (OS_PROJECT_ID, OS_PROJECT_NAME, OS_TENANT_NAME).
 */
function project(s: Session): { tenantId: string; tenantName?: string } {
  const set = (name: string): string | undefined => (s.env[name] === '' ? undefined : s.env[name]);
  const id = set('OS_TENANT_ID') ?? set('OS_PROJECT_ID');
  if (id !== undefined) return { tenantId: id };
  const name = set('OS_PROJECT_NAME') ?? set('OS_TENANT_NAME');
  if (name !== undefined) return { tenantId: '', tenantName: name };
  throw new ToolError('env OS_TENANT_ID not set (nor OS_PROJECT_ID, OS_PROJECT_NAME, OS_TENANT_NAME)');
}

/** The variables of `names` that are set and not empty, under their keys. */
function optional<K extends string>(s: Session, names: Record<K, string>): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const [k, v] of Object.entries(names) as [K, string][]) {
    const value = s.env[v];
    if (value !== undefined && value !== '') out[k] = value;
  }
  return out;
}

/** The mode, the bridge and an authenticated Neutron client. */
export async function setUp(s: Session): Promise<Setup> {
  const { mode, bridge } = modeAndBridge(s);
  const ipam = s.db.rootIds().get('ipam');
  const ipamUrl = (): string => {
    const hp = ipam === undefined ? undefined : parseHostPort(ipam);
    if (hp === undefined) throw new ToolError("ipam server's ip address not set");
    return `http://${hp.host}:${hp.port ?? IPAM_PORT}/`;
  };
  if (mode === 'overlay') return { mode, bridge, neutron: NeutronClient.noauth(s.env['OS_URL'] ?? ipamUrl()) };
  const vifId = requireEnv(s, 'OS_VIF_ID');
  // The 2015 tool exported OS_AUTH_STRATEGY=noauth itself; honoured here for a Neutron without Keystone.
  if (s.env['OS_AUTH_STRATEGY'] === 'noauth') {
    return { mode, bridge, vifId, neutron: NeutronClient.noauth(s.env['OS_URL'] ?? ipamUrl(), s.env['OS_TENANT_ID'] ?? 'admin') };
  }
  const creds = {
    username: requireEnv(s, 'OS_USERNAME'),
    password: requireEnv(s, 'OS_PASSWORD'),
    ...project(s),
    authUrl: requireEnv(s, 'OS_AUTH_URL'),
    ...optional(s, { userDomain: 'OS_USER_DOMAIN_ID', userDomainName: 'OS_USER_DOMAIN_NAME' }),
    ...optional(s, { projectDomain: 'OS_PROJECT_DOMAIN_ID', projectDomainName: 'OS_PROJECT_DOMAIN_NAME' }),
  };
  try {
    const login = s.keystone ?? ((c, url) => NeutronClient.keystone(c, url));
    return { mode, bridge, vifId, neutron: await login(creds, s.env['OS_URL']) };
  } catch (e) {
    throw new ToolError(`Failed to authenticate with keystone. \n (${e instanceof NeutronError ? e.message : (e as Error).message})`);
  }
}
