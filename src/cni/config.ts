/**
 * What one plugin invocation receives (CNI SPEC.md "Execution protocol" and
 * "Plugin configuration"): the CNI_* environment, and the network
 * configuration on stdin, validated here into a typed request. Missing or
 * malformed pieces are the spec's errors: 4 for the environment, 6 for
 * undecodable JSON, 7 for a bad configuration, 1 for a version this plugin
 * does not speak, 2 for a value it does not support.
 */
import { CNI_CODE, CniError } from './errors.js';

/** The spec versions this plugin answers in (0.3.0 and 0.3.1 share a result format). */
export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'] as const;
export type CniCommand = (typeof COMMANDS)[number];
export const MODES = ['host', 'nested'] as const;
export type Mode = (typeof MODES)[number];

/** Keystone credentials (Identity v3 password), as an openrc file gives them. */
export interface AuthConfig {
  readonly auth_url: string;
  readonly username: string;
  readonly password: string;
  readonly project_id: string;
  readonly user_domain?: string;
}

export interface NetConf {
  readonly cniVersion: string;
  /** The CNI network name (the conflist's). */
  readonly name: string;
  /** The ovnts IPAM's Neutron API, e.g. http://127.0.0.1:9696. */
  readonly endpoint: string;
  /** Keystone credentials; none: the IPAM runs with noauth. */
  readonly auth?: AuthConfig;
  /** The Neutron network, by id or name. */
  readonly network: string;
  readonly mode: Mode;
  /** The OVS bridge the host end is plugged into: br-int (host), the VM's bridge (nested). */
  readonly bridge: string;
  /** The OVS database (ovs-vsctl --db). */
  readonly ovsDb: string;
  /** The network namespace ovs-vswitchd runs in (the host ends of the veths go there); default: this one. */
  readonly ovsNetns?: string;
  /** nested: the VM's own Neutron port (the parent of the containers' ports). */
  readonly vifId?: string;
  /** How long ADD waits for the controller to install the port (ovn-installed). */
  readonly installTimeoutMs: number;
  /** This host's name in binding:host_id (GC only touches ports of this host). */
  readonly host?: string;
  readonly runtimeConfig: { readonly ips?: readonly string[]; readonly mac?: string };
  readonly prevResult?: Record<string, unknown>;
  readonly validAttachments?: ReadonlyArray<{ readonly containerID: string; readonly ifname: string }>;
}

/** CNI_* variables; the ones a command needs are checked by {@link requireEnv}. */
export interface CniEnv {
  readonly command: CniCommand;
  readonly containerId: string;
  readonly netns: string;
  readonly ifname: string;
  /** CNI_ARGS as key/value pairs. */
  readonly args: ReadonlyMap<string, string>;
}

type Json = Record<string, unknown>;

export function parseEnv(env: NodeJS.ProcessEnv): CniEnv {
  const command = env['CNI_COMMAND'] ?? '';
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new CniError(CNI_CODE.INVALID_ENV, command === '' ? 'CNI_COMMAND is not set' : `unknown CNI_COMMAND: ${command}`);
  }
  const args = new Map<string, string>();
  for (const kv of (env['CNI_ARGS'] ?? '').split(';')) {
    if (kv === '') continue;
    const i = kv.indexOf('=');
    if (i <= 0) throw new CniError(CNI_CODE.INVALID_ENV, `invalid CNI_ARGS pair "${kv}"`);
    args.set(kv.slice(0, i), kv.slice(i + 1));
  }
  return {
    command: command as CniCommand,
    containerId: env['CNI_CONTAINERID'] ?? '',
    netns: env['CNI_NETNS'] ?? '',
    ifname: env['CNI_IFNAME'] ?? '',
    args,
  };
}

/** The variables ADD, DEL and CHECK need (SPEC.md "Parameters"); DEL may lack CNI_NETNS. */
export function requireEnv(e: CniEnv): void {
  if (e.containerId === '') throw new CniError(CNI_CODE.INVALID_ENV, 'CNI_CONTAINERID is not set');
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(e.containerId))
    throw new CniError(CNI_CODE.INVALID_ENV, `invalid CNI_CONTAINERID "${e.containerId}"`);
  if (e.ifname === '') throw new CniError(CNI_CODE.INVALID_ENV, 'CNI_IFNAME is not set');
  if (e.ifname.length > 15 || e.ifname === '.' || e.ifname === '..' || /[/:\s]/.test(e.ifname)) {
    throw new CniError(CNI_CODE.INVALID_ENV, `invalid CNI_IFNAME "${e.ifname}"`);
  }
  if (e.command !== 'DEL' && e.netns === '') throw new CniError(CNI_CODE.INVALID_ENV, 'CNI_NETNS is not set');
}

/**
 * The nesting Go's encoding/json decodes at most: the reference plugins refuse deeper configurations
 * as undecodable ("exceeded max depth", code 6). Checked before parsing: JSON.parse would build
 * a hundred thousand nested objects first (milliseconds each time) only to refuse them later.
 */
const MAX_DEPTH = 10000;

/** Whether `text` opens more than MAX_DEPTH objects or arrays at once (outside strings). */
function tooDeep(text: string): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) i = closingQuote(text, i);
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_DEPTH) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** Where the string opened at `open` ends (its closing quote, or the end of the text), escapes skipped. */
function closingQuote(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) return i;
  }
  return text.length;
}

/** Parses stdin; for VERSION only the requested cniVersion matters. */
export function decodeStdin(text: string): Json {
  if (tooDeep(text)) throw new CniError(CNI_CODE.DECODE_FAILURE, 'cannot decode the network configuration: exceeded max depth');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CniError(CNI_CODE.DECODE_FAILURE, `cannot decode the network configuration: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new CniError(CNI_CODE.DECODE_FAILURE, 'the network configuration is not a JSON object');
  return v as Json;
}

/** Orders spec versions ("0.3.1" < "0.4.0" < "1.0.0"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function checkVersion(v: unknown): string {
  if (typeof v !== 'string' || v === '')
    throw new CniError(CNI_CODE.INVALID_CONFIG, 'cniVersion is missing from the network configuration');
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(v)) {
    throw new CniError(
      CNI_CODE.INCOMPATIBLE_VERSION,
      `incompatible CNI version ${v}`,
      `supported versions: ${SUPPORTED_VERSIONS.join(', ')}`,
    );
  }
  return v;
}

function str(o: Json, key: string, required: boolean): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) throw new CniError(CNI_CODE.INVALID_CONFIG, `"${key}" is missing from the network configuration`);
    return undefined;
  }
  if (typeof v !== 'string' || v === '') throw new CniError(CNI_CODE.INVALID_CONFIG, `"${key}" must be a non-empty string`);
  return v;
}

function parseAuth(v: unknown): AuthConfig | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new CniError(CNI_CODE.INVALID_CONFIG, '"auth" must be an object');
  const o = v as Json;
  const userDomain = str(o, 'user_domain', false);
  return {
    auth_url: str(o, 'auth_url', true)!,
    username: str(o, 'username', true)!,
    password: str(o, 'password', true)!,
    project_id: str(o, 'project_id', true)!,
    ...(userDomain === undefined ? {} : { user_domain: userDomain }),
  };
}

function parseRuntimeConfig(v: unknown): NetConf['runtimeConfig'] {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new CniError(CNI_CODE.INVALID_CONFIG, '"runtimeConfig" must be an object');
  const o = v as Json;
  const ips = o['ips'];
  if (ips !== undefined && !(Array.isArray(ips) && ips.every((s) => typeof s === 'string')))
    throw new CniError(CNI_CODE.INVALID_CONFIG, 'runtimeConfig "ips" must be a list of strings');
  const mac = o['mac'];
  if (mac !== undefined && typeof mac !== 'string') throw new CniError(CNI_CODE.INVALID_CONFIG, 'runtimeConfig "mac" must be a string');
  return { ...(ips === undefined ? {} : { ips: ips }), ...(mac === undefined ? {} : { mac }) };
}

/** The network configuration of ADD, DEL, CHECK, STATUS and GC. */
export function parseNetConf(o: Json, env: NodeJS.ProcessEnv = {}): NetConf {
  const cniVersion = checkVersion(o['cniVersion']);
  const name = str(o, 'name', true)!;
  const endpoint = str(o, 'endpoint', true)!;
  try {
    new URL(endpoint);
  } catch {
    throw new CniError(CNI_CODE.INVALID_CONFIG, `"endpoint" is not a URL: ${endpoint}`);
  }
  const network = str(o, 'network', true)!;
  const mode = str(o, 'mode', false) ?? 'host';
  if (!(MODES as readonly string[]).includes(mode))
    throw new CniError(CNI_CODE.UNSUPPORTED_FIELD, `unsupported field: mode=${mode}`, `supported modes: ${MODES.join(', ')}`);
  const vifId = str(o, 'vif_id', false);
  if (mode === 'nested' && vifId === undefined)
    throw new CniError(CNI_CODE.INVALID_CONFIG, '"vif_id" (the VM\'s port) is required in nested mode');
  const timeout = o['install_timeout_ms'] ?? 30000;
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout <= 0)
    throw new CniError(CNI_CODE.INVALID_CONFIG, '"install_timeout_ms" must be a positive integer');
  const ovsNetns = str(o, 'ovs_netns', false);
  const auth = parseAuth(o['auth']);
  const host = str(o, 'host', false);
  const prev = o['prevResult'];
  if (prev !== undefined && (typeof prev !== 'object' || prev === null || Array.isArray(prev)))
    throw new CniError(CNI_CODE.INVALID_CONFIG, '"prevResult" must be an object');
  const valid = o['cni.dev/valid-attachments'];
  if (
    valid !== undefined &&
    !(Array.isArray(valid) && valid.every((a) => typeof a === 'object' && a !== null && typeof (a as Json)['containerID'] === 'string'))
  ) {
    throw new CniError(CNI_CODE.INVALID_CONFIG, '"cni.dev/valid-attachments" must be a list of {containerID, ifname}');
  }
  return {
    cniVersion,
    name,
    endpoint,
    network,
    mode: mode as Mode,
    bridge: str(o, 'bridge', false) ?? 'br-int',
    ovsDb: str(o, 'ovs_db', false) ?? `unix:${env['OVS_RUNDIR'] ?? '/var/run/openvswitch'}/db.sock`,
    installTimeoutMs: timeout,
    runtimeConfig: parseRuntimeConfig(o['runtimeConfig']),
    ...(auth === undefined ? {} : { auth }),
    ...(ovsNetns === undefined ? {} : { ovsNetns }),
    ...(vifId === undefined ? {} : { vifId }),
    ...(host === undefined ? {} : { host }),
    ...(prev === undefined ? {} : { prevResult: prev as Json }),
    ...(valid === undefined
      ? {}
      : { validAttachments: (valid as Json[]).map((a) => ({ containerID: String(a['containerID']), ifname: String(a['ifname'] ?? '') })) }),
  };
}
