/**
 * A small client of the Neutron v2.0 API (networks, subnets, ports) over
 * fetch, with the two ways the container tools authenticate: none (the
 * seed's overlay IPAM: `tenant_id` given in every create, as noauth Neutron
 * requires) and a Keystone token (underlay, from the `OS_*` variables of an
 * openrc file; Identity API v3 password auth, or v2.0 when OS_AUTH_URL says so).
 */

export interface NeutronNetwork {
  readonly id: string;
  readonly name: string;
  readonly subnets: readonly string[];
  readonly mtu?: number;
  readonly tenant_id?: string;
}

export interface NeutronSubnet {
  readonly id: string;
  readonly name: string;
  readonly cidr: string;
  readonly gateway_ip: string | null;
  readonly network_id: string;
  readonly ip_version?: number;
  readonly allocation_pools?: ReadonlyArray<{ readonly start: string; readonly end: string }>;
  readonly ipv6_address_mode?: string | null;
  readonly ipv6_ra_mode?: string | null;
  readonly description?: string;
}

/** What a subnet may be created with besides its network, name and CIDR. */
export interface SubnetOptions {
  /** The gateway address (default: the server's choice, the first address). */
  readonly gateway?: string;
  /** 4 (default) or 6. */
  readonly ipVersion?: 4 | 6;
  readonly ipv6AddressMode?: string;
  readonly ipv6RaMode?: string;
  readonly description?: string;
}

export interface NeutronPort {
  readonly id: string;
  readonly name: string;
  readonly network_id: string;
  readonly mac_address: string;
  readonly fixed_ips: ReadonlyArray<{ readonly subnet_id: string; readonly ip_address: string }>;
  readonly tenant_id?: string;
  readonly status?: string;
  readonly device_id?: string;
  readonly 'binding:profile'?: Record<string, unknown>;
}

/** An error answer of the API: its HTTP status and NeutronError type/message. */
export class NeutronError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = 'NeutronError';
  }
}

/**
 * The credentials of an openrc file: OS_USERNAME, OS_PASSWORD, OS_AUTH_URL and
 * the project by id (OS_TENANT_ID, v2.0 era; OS_PROJECT_ID) or by name
 * (OS_TENANT_NAME; OS_PROJECT_NAME with OS_PROJECT_DOMAIN_*).
 */
export interface KeystoneCredentials {
  readonly authUrl: string;
  readonly username: string;
  readonly password: string;
  /** The project's id; when empty, `tenantName` names it. */
  readonly tenantId: string;
  readonly tenantName?: string;
  /** The user's domain by id (default `default`), or by name. */
  readonly userDomain?: string;
  readonly userDomainName?: string;
  /** The domain of a project given by name, by id (default `default`) or by name. */
  readonly projectDomain?: string;
  readonly projectDomainName?: string;
}

/** Keystone v3's `{id}` or `{name}` reference, the id when both are given. */
function ref(id: string | undefined, name: string | undefined, fallbackId: string): { id: string } | { name: string } {
  if (id !== undefined && id !== '') return { id };
  return name !== undefined && name !== '' ? { name } : { id: fallbackId };
}

type Json = Record<string, unknown>;

export class NeutronClient {
  private constructor(
    /** Base URL ending in `/` (the v2.0 paths are appended). */
    readonly endpoint: string,
    private readonly token: string | undefined,
    /** The project sent in creates (noauth servers need one). */
    private readonly tenantId: string | undefined,
  ) {}

  /** No authentication; every create carries `tenant_id` (the 2015 tool sent "admin"). */
  static noauth(endpoint: string, tenantId = 'admin'): NeutronClient {
    return new NeutronClient(withSlash(endpoint), undefined, tenantId);
  }

  /**
   * Gets a token from Keystone and the network endpoint from its catalog
   * (`endpoint` overrides the catalog, as OS_URL does for the neutron CLI).
   */
  static async keystone(c: KeystoneCredentials, endpoint?: string): Promise<NeutronClient> {
    const base = c.authUrl.replace(/\/+$/, '');
    if (/\/v2\.0$/.test(base)) {
      const tenant = c.tenantId !== '' ? { tenantId: c.tenantId } : { tenantName: c.tenantName ?? '' };
      const r = await request('POST', `${base}/tokens`, undefined, {
        auth: { ...tenant, passwordCredentials: { username: c.username, password: c.password } },
      });
      const access = (r.body as Json)['access'] as Json;
      const token = String((access['token'] as Json)['id']);
      const service = (access['serviceCatalog'] as Json[] | undefined)?.find((s) => s['type'] === 'network');
      const url = endpoint ?? String(((service?.['endpoints'] as Json[] | undefined)?.[0] ?? {})['publicURL'] ?? '');
      if (url === '') throw new Error('no network endpoint in the Keystone catalog');
      return new NeutronClient(withSlash(url), token, undefined);
    }
    const v3 = /\/v3$/.test(base) ? base : `${base}/v3`;
    const r = await request('POST', `${v3}/auth/tokens`, undefined, {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: c.username, domain: ref(c.userDomain, c.userDomainName, 'default'), password: c.password } },
        },
        scope: {
          project:
            c.tenantId !== ''
              ? { id: c.tenantId }
              : { name: c.tenantName ?? '', domain: ref(c.projectDomain, c.projectDomainName, 'default') },
        },
      },
    });
    const token = r.headers.get('x-subject-token');
    if (token === null) throw new Error('Keystone returned no X-Subject-Token');
    const catalog = (((r.body as Json)['token'] as Json | undefined)?.['catalog'] as Json[] | undefined) ?? [];
    const eps = (catalog.find((s) => s['type'] === 'network')?.['endpoints'] as Json[] | undefined) ?? [];
    const url = endpoint ?? String((eps.find((e) => e['interface'] === 'public') ?? eps[0])?.['url'] ?? '');
    if (url === '') throw new Error('no network endpoint in the Keystone catalog');
    return new NeutronClient(withSlash(url), token, undefined);
  }

  private async call(method: string, path: string, body?: Json): Promise<unknown> {
    return (await request(method, new URL(`v2.0/${path}`, this.endpoint).href, this.token, body)).body;
  }

  private withTenant(o: Json): Json {
    return this.tenantId === undefined ? o : { ...o, tenant_id: this.tenantId };
  }

  async createNetwork(name: string): Promise<NeutronNetwork> {
    const r = (await this.call('POST', 'networks', { network: this.withTenant({ name, admin_state_up: true }) })) as Json;
    return r['network'] as NeutronNetwork;
  }

  async renameNetwork(id: string, name: string): Promise<NeutronNetwork> {
    return ((await this.call('PUT', `networks/${encodeURIComponent(id)}`, { network: { name } })) as Json)['network'] as NeutronNetwork;
  }

  async getNetwork(id: string): Promise<NeutronNetwork> {
    return ((await this.call('GET', `networks/${encodeURIComponent(id)}`)) as Json)['network'] as NeutronNetwork;
  }

  async listNetworks(query: Record<string, string> = {}): Promise<NeutronNetwork[]> {
    return ((await this.call('GET', `networks${qs(query)}`)) as Json)['networks'] as NeutronNetwork[];
  }

  async deleteNetwork(id: string): Promise<void> {
    await this.call('DELETE', `networks/${encodeURIComponent(id)}`);
  }

  /** `options`: the gateway, or a subnet of another kind (IPv6, its address modes). */
  async createSubnet(networkId: string, name: string, cidr: string, options: SubnetOptions = {}): Promise<NeutronSubnet> {
    const subnet = {
      network_id: networkId,
      ip_version: options.ipVersion ?? 4,
      cidr,
      name,
      ...(options.gateway === undefined ? {} : { gateway_ip: options.gateway }),
      ...(options.ipv6AddressMode === undefined ? {} : { ipv6_address_mode: options.ipv6AddressMode }),
      ...(options.ipv6RaMode === undefined ? {} : { ipv6_ra_mode: options.ipv6RaMode }),
      ...(options.description === undefined ? {} : { description: options.description }),
    };
    const r = (await this.call('POST', 'subnets', { subnet: this.withTenant(subnet) })) as Json;
    return r['subnet'] as NeutronSubnet;
  }

  async getSubnet(id: string): Promise<NeutronSubnet> {
    return ((await this.call('GET', `subnets/${encodeURIComponent(id)}`)) as Json)['subnet'] as NeutronSubnet;
  }

  /** Changes the given attributes of the subnet (PUT). */
  async updateSubnet(id: string, subnet: Record<string, unknown>): Promise<NeutronSubnet> {
    return ((await this.call('PUT', `subnets/${encodeURIComponent(id)}`, { subnet })) as Json)['subnet'] as NeutronSubnet;
  }

  async listSubnets(query: Record<string, string> = {}): Promise<NeutronSubnet[]> {
    return ((await this.call('GET', `subnets${qs(query)}`)) as Json)['subnets'] as NeutronSubnet[];
  }

  async createPort(port: { network_id: string; name?: string; 'binding:profile'?: Record<string, unknown> }): Promise<NeutronPort> {
    const r = (await this.call('POST', 'ports', { port: this.withTenant({ ...port, admin_state_up: true }) })) as Json;
    return r['port'] as NeutronPort;
  }

  /** Changes the given attributes of the port (PUT). */
  async updatePort(id: string, port: Record<string, unknown>): Promise<NeutronPort> {
    return ((await this.call('PUT', `ports/${encodeURIComponent(id)}`, { port })) as Json)['port'] as NeutronPort;
  }

  async getPort(id: string): Promise<NeutronPort> {
    return ((await this.call('GET', `ports/${encodeURIComponent(id)}`)) as Json)['port'] as NeutronPort;
  }

  async listPorts(query: Record<string, string> = {}): Promise<NeutronPort[]> {
    return ((await this.call('GET', `ports${qs(query)}`)) as Json)['ports'] as NeutronPort[];
  }

  async deletePort(id: string): Promise<void> {
    await this.call('DELETE', `ports/${encodeURIComponent(id)}`);
  }
}

function withSlash(u: string): string {
  return u.endsWith('/') ? u : `${u}/`;
}

function qs(query: Record<string, string>): string {
  const p = new URLSearchParams(query).toString();
  return p === '' ? '' : `?${p}`;
}

/** How long one Neutron API request may go unanswered. */
const REQUEST_TIMEOUT_MS = 30000;

async function request(method: string, url: string, token: string | undefined, body?: Json): Promise<{ body: unknown; headers: Headers }> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token !== undefined) headers['X-Auth-Token'] = token;
  const res = await fetch(url, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  }).catch((e: unknown) => {
    // An IPAM that accepts and never answers: say so, not "The operation was aborted".
    if ((e as Error).name === 'TimeoutError') throw new Error(`${method} ${url}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`);
    throw e;
  });
  const text = await res.text();
  let parsed: unknown = undefined;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (!res.ok) {
    const ne = (parsed as Json | undefined)?.['NeutronError'] as Json | undefined;
    const err = (parsed as Json | undefined)?.['error'] as Json | undefined;
    const message =
      String(ne?.['message'] ?? err?.['message'] ?? (typeof parsed === 'string' ? parsed.trim() : '') ?? '') ||
      `${res.status} ${res.statusText}`;
    throw new NeutronError(res.status, String(ne?.['type'] ?? err?.['title'] ?? res.statusText), message);
  }
  return { body: parsed, headers: res.headers };
}
