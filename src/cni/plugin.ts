/**
 * The ovnts CNI plugin (CNI spec 1.1.0; results in 0.3.x, 0.4.0 and 1.x
 * form): one invocation, environment and stdin in, result or error JSON
 * out.
 *
 * ADD: a Neutron port from the IPAM (the runtime's IP/MAC if it gave
 * some), a veth made inside the container's namespace with its host end
 * in the OVS namespace, configured (MAC, address, default route, lo up),
 * the host end a port of the bridge with `iface-id` = the Neutron port, and
 * the answer only once the controller has set `ovn-installed` on it — so the
 * container's first packet passes. DEL cleans what is there (OVS port, veth,
 * Neutron port) and succeeds when nothing is left; with the IPAM unreachable
 * it still removes the local part and asks to be retried (code 11).
 */
import {
  checkVersion,
  compareVersions,
  decodeStdin,
  parseEnv,
  parseNetConf,
  requireEnv,
  SUPPORTED_VERSIONS,
  type CniEnv,
  type NetConf,
} from './config.js';
import { CNI_CODE, CniError } from './errors.js';
import {
  allocateOn,
  type Allocation,
  deletePort as deleteNeutronPort,
  DEVICE_OWNER,
  findPorts,
  ipamCall,
  ipamError,
  portPrefix,
  resolveNetwork,
} from './ipam.js';
import { addPort, attachedInterfaces, bindPort, deletePort, hostVeth, waitInstalled } from './ovs-port.js';
import { releaseTag, reserveTag, tagOf, waitActive } from './nested.js';
import type { NeutronClient, NeutronNetwork, NeutronPort } from '../host/neutron.js';
import type { OvsDb } from '../host/ovs-db.js';
import { Resources } from './resources.js';
import { expectedFrom, formatResult } from './result.js';
import { configureNetnsInterface, createNetnsVeth, readNetnsLink, removeHostLink } from '../host/netns-veth.js';

export interface PluginOutput {
  readonly stdout: string;
  readonly exitCode: number;
}

type Mark = (what: string) => void;

/**
 * OVNTS_TIMING=1: where ADD's time goes, on stderr (for bench:cni): ms since
 * the process started (one-shot), or since the request came (agent).
 */
function timer(env: NodeJS.ProcessEnv, since: number): Mark {
  if (env['OVNTS_TIMING'] !== '1') return () => undefined;
  const who = env['CNI_CONTAINERID'] ?? '';
  return (what) => process.stderr.write(`timing: ${who} ${what} ${(performance.now() - since).toFixed(0)} ms\n`);
}

const LATEST = SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1]!;

/**
 * Runs one CNI command. Never throws: failures are CNI error JSON. `kept`:
 * the connections of a resident process (the agent); without them the
 * invocation opens its own and closes them.
 */
export async function runPlugin(env: NodeJS.ProcessEnv, stdin: string, kept?: Resources): Promise<PluginOutput> {
  const res = kept ?? new Resources();
  try {
    return await runCommand(env, stdin, res, timer(env, kept === undefined ? 0 : performance.now()));
  } finally {
    if (kept === undefined) await res.close();
  }
}

async function runCommand(env: NodeJS.ProcessEnv, stdin: string, res: Resources, mark: Mark): Promise<PluginOutput> {
  let version: string = LATEST;
  try {
    const e = parseEnv(env);
    if (e.command === 'VERSION') return ok(versionReply(stdin));
    const raw = decodeStdin(stdin);
    if (typeof raw['cniVersion'] === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(raw['cniVersion']))
      version = raw['cniVersion'];
    const conf = parseNetConf(raw, env);
    switch (e.command) {
      case 'ADD':
        requireEnv(e);
        mark('parsed');
        return ok(JSON.stringify(await add(res, conf, e, mark)));
      case 'DEL':
        requireEnv(e);
        await del(res, conf, e);
        return ok('');
      case 'CHECK':
        requireEnv(e);
        await check(res, conf, e);
        return ok('');
      case 'STATUS':
        await status(res, conf);
        return ok('');
      case 'GC':
        await gc(res, conf);
        return ok('');
    }
  } catch (err) {
    const ce = err instanceof CniError ? err : new CniError(CNI_CODE.IO_FAILURE, (err as Error).message);
    return { stdout: JSON.stringify(ce.toJSON(version)), exitCode: 1 };
  }
}

function ok(stdout: string): PluginOutput {
  return { stdout, exitCode: 0 };
}

function versionReply(stdin: string): string {
  let asked: string = LATEST;
  if (stdin.trim() !== '') {
    const v = decodeStdin(stdin)['cniVersion'];
    if (v !== undefined) asked = checkVersion(v);
  }
  return JSON.stringify({ cniVersion: asked, supportedVersions: SUPPORTED_VERSIONS });
}

/** The static IP and MAC the runtime asked for: CNI_ARGS IP=/MAC= (podman), or runtimeConfig ips/mac. */
function requested(conf: NetConf, e: CniEnv): { ip?: string; mac?: string } {
  const ip = e.args.get('IP') ?? conf.runtimeConfig.ips?.[0];
  const mac = e.args.get('MAC') ?? conf.runtimeConfig.mac;
  return { ...(ip === undefined ? {} : { ip: ip.split('/')[0]! }), ...(mac === undefined ? {} : { mac: mac.toLowerCase() }) };
}

/**
 * The veth and its OVS port are made while the IPAM allocates the port (the
 * two do not depend on each other); then the container end gets the
 * address and the OVS port the port's iface-id, and ADD waits until OVN has
 * installed it.
 */
async function add(res: Resources, conf: NetConf, e: CniEnv, mark: Mark): Promise<Record<string, unknown>> {
  const [c, db] = await Promise.all([res.ipam(conf), openOvs(res, conf)]);
  const vm = conf.mode === 'nested' ? db : undefined;
  const hostName = hostVeth(conf.name, e.containerId, e.ifname);
  let vlan: number | undefined;
  let port: NeutronPort | undefined;
  try {
    vlan = vm === undefined ? undefined : await reserveTag(vm, conf.bridge);
    const profile = vlan === undefined ? undefined : { parent_name: conf.vifId, tag: vlan };
    const tag = vlan;
    const plumbing = createNetnsVeth(e.netns, conf.ovsNetns, hostName, e.ifname)
      .then(() =>
        addPort(db, {
          bridge: conf.bridge,
          name: hostName,
          network: conf.name,
          containerId: e.containerId,
          ifname: e.ifname,
          ...(tag === undefined ? {} : { tag }),
        }),
      )
      .then(() => mark('plugged'));
    const allocation = allocateOn(c, conf, e.containerId, e.ifname, {
      ...requested(conf, e),
      ...(profile === undefined ? {} : { profile }),
    }).then((a) => {
      port = a.port;
      mark('port allocated');
      return a;
    });
    const [plugged, allocated] = await Promise.allSettled([plumbing, allocation]);
    if (allocated.status === 'rejected') throw allocated.reason;
    if (plugged.status === 'rejected')
      throw new CniError(CNI_CODE.INTERFACE_FAILURE, `cannot attach ${e.ifname} in ${e.netns}: ${(plugged.reason as Error).message}`);
    return await configure(conf, e, c, db, allocated.value, hostName, vlan, mark);
  } catch (err) {
    await deletePort(db, conf.bridge, hostName).catch(() => undefined);
    await removeHostLink(conf.ovsNetns, hostName);
    if (port !== undefined) await deleteNeutronPort(c, port.id).catch(() => undefined);
    if (vm !== undefined && vlan !== undefined) await releaseTag(vm, conf.bridge, vlan).catch(() => undefined);
    throw err instanceof CniError
      ? err
      : new CniError(CNI_CODE.INTERFACE_FAILURE, `cannot attach ${e.ifname} in ${e.netns}: ${(err as Error).message}`);
  }
}

/** This host's (or, nested, the VM's) OVS database; unreachable is "try again later". */
async function openOvs(res: Resources, conf: NetConf): Promise<OvsDb> {
  try {
    return await res.ovs(conf.ovsDb);
  } catch (err) {
    throw new CniError(CNI_CODE.TRY_AGAIN_LATER, `cannot reach the Open vSwitch database ${conf.ovsDb}: ${(err as Error).message}`);
  }
}

/** The container end's address and the port's binding; ready once OVN has installed it. */
async function configure(
  conf: NetConf,
  e: CniEnv,
  c: NeutronClient,
  db: OvsDb,
  a: Allocation & { net: NeutronNetwork },
  hostName: string,
  vlan: number | undefined,
  mark: Mark,
): Promise<Record<string, unknown>> {
  const { port, subnet } = a;
  const mtu = a.net.mtu;
  const fixed = port.fixed_ips.find((f) => f.subnet_id === subnet.id)!;
  const address = `${fixed.ip_address}/${subnet.cidr.split('/')[1]}`;
  const gateway = subnet.gateway_ip === null || subnet.gateway_ip === '' ? undefined : subnet.gateway_ip;
  await Promise.all([
    configureNetnsInterface(e.netns, {
      ifName: e.ifname,
      mac: port.mac_address,
      address,
      ...(mtu === undefined ? {} : { mtu }),
      ...(gateway === undefined ? {} : { gateway }),
    }),
    bindPort(db, hostName, port.mac_address, vlan === undefined ? { ifaceId: port.id, containerId: e.containerId } : undefined),
  ]);
  mark('configured');
  if (vlan === undefined) await waitInstalled(db, hostName, conf.installTimeoutMs);
  else await waitActive(c, port.id, conf.installTimeoutMs);
  mark('installed');
  return formatResult(conf.cniVersion, {
    hostIf: { name: hostName },
    containerIf: { name: e.ifname, mac: port.mac_address, sandbox: e.netns, ...(mtu === undefined ? {} : { mtu }) },
    address,
    ...(gateway === undefined ? {} : { gateway }),
  });
}

/**
 * Removes the OVS port and veth, then the Neutron port(s); in nested mode the
 * VLAN goes back to the pool only once no Neutron port holds it.
 */
async function del(res: Resources, conf: NetConf, e: CniEnv): Promise<void> {
  const hostName = hostVeth(conf.name, e.containerId, e.ifname);
  let failure: CniError | undefined;
  const tags = new Set<number>();
  try {
    const db = await res.ovs(conf.ovsDb);
    if (conf.mode === 'nested') {
      const t = db.portTag(hostName);
      if (t !== undefined) tags.add(t);
    }
    await deletePort(db, conf.bridge, hostName);
  } catch (err) {
    failure = new CniError(CNI_CODE.TRY_AGAIN_LATER, `cannot remove OVS port ${hostName}: ${(err as Error).message}`);
  }
  // The host end takes the container end with it (a netns already gone took both).
  await removeHostLink(conf.ovsNetns, hostName);
  try {
    const c = await res.ipam(conf);
    for (const p of await findPorts(c, conf, undefined, e.containerId, e.ifname)) {
      const t = tagOf(p['binding:profile']);
      if (t !== undefined) tags.add(t);
      await deleteNeutronPort(c, p.id);
    }
    if (conf.mode === 'nested') await releaseTags(res, conf, tags);
  } catch (err) {
    failure ??= ipamError(err);
  }
  if (failure !== undefined) throw failure;
}

async function check(res: Resources, conf: NetConf, e: CniEnv): Promise<void> {
  if (compareVersions(conf.cniVersion, '0.4.0') < 0)
    throw new CniError(CNI_CODE.INCOMPATIBLE_VERSION, `CHECK is not defined for CNI version ${conf.cniVersion}`);
  if (conf.prevResult === undefined) throw new CniError(CNI_CODE.INVALID_CONFIG, 'CHECK needs "prevResult" in the network configuration');
  const want = expectedFrom(conf.prevResult, e.ifname, e.netns);
  if (want === undefined) throw new CniError(CNI_CODE.CHECK_FAILED, `prevResult lists no interface ${e.ifname} in a sandbox`);
  const fail = (msg: string): never => {
    throw new CniError(CNI_CODE.CHECK_FAILED, msg);
  };
  const link = await readNetnsLink(e.netns, e.ifname);
  if (link === undefined) fail(`interface ${e.ifname} is missing from ${e.netns}`);
  if (want.mac !== undefined && link!.mac !== want.mac) fail(`interface ${e.ifname} has MAC ${link!.mac}, not ${want.mac}`);
  if (!link!.up) fail(`interface ${e.ifname} is down`);
  for (const a of want.addresses) if (!link!.addresses.includes(a)) fail(`interface ${e.ifname} lacks address ${a}`);
  const hostName = hostVeth(conf.name, e.containerId, e.ifname);
  const db = await openOvs(res, conf);
  const ids = db.interfaceIds(hostName);
  if (ids === undefined) fail(`OVS port ${hostName} is missing from ${conf.bridge}`);
  const ports = await findPorts(await res.ipam(conf), conf, undefined, e.containerId, e.ifname);
  if (ports.length !== 1) fail(`the IPAM has ${ports.length} ports for ${e.containerId}/${e.ifname}`);
  if (conf.mode === 'nested') {
    const tag = tagOf(ports[0]!['binding:profile']);
    const onBridge = db.portTag(hostName);
    if (tag === undefined || onBridge !== tag)
      fail(`OVS port ${hostName} is on VLAN ${onBridge ?? 'none'}, its IPAM port on ${tag ?? 'none'}`);
    if (ports[0]!.status !== 'ACTIVE') fail(`the IPAM port ${ports[0]!.id} is ${ports[0]!.status ?? 'without status'}`);
  } else {
    if (ids!.get('iface-id') !== ports[0]!.id)
      fail(`OVS port ${hostName} is bound to ${ids!.get('iface-id') ?? 'nothing'}, not port ${ports[0]!.id}`);
    if (ids!.get('ovn-installed') !== 'true') fail(`OVS port ${hostName} is not installed by the OVN controller`);
  }
  if (want.mac !== undefined && ports[0]!.mac_address !== want.mac) fail(`the IPAM port has MAC ${ports[0]!.mac_address}, not ${want.mac}`);
}

async function status(res: Resources, conf: NetConf): Promise<void> {
  try {
    await resolveNetwork(await res.ipam(conf), conf.network);
  } catch (err) {
    throw new CniError(CNI_CODE.PLUGIN_NOT_AVAILABLE, `IPAM not available: ${(err as Error).message}`);
  }
  let db: OvsDb;
  try {
    db = await res.ovs(conf.ovsDb);
  } catch (err) {
    throw new CniError(CNI_CODE.PLUGIN_NOT_AVAILABLE, `bridge ${conf.bridge} not available: ${(err as Error).message}`);
  }
  if (db.bridgeIds(conf.bridge) === undefined)
    throw new CniError(CNI_CODE.PLUGIN_NOT_AVAILABLE, `bridge ${conf.bridge} not available: no bridge named ${conf.bridge}`);
}

/** Gives VLANs back to the VM's pool (nested mode). */
async function releaseTags(res: Resources, conf: NetConf, tags: Iterable<number>): Promise<void> {
  const list = [...tags];
  if (list.length === 0) return;
  const vm = await res.ovs(conf.ovsDb);
  for (const t of list) await releaseTag(vm, conf.bridge, t);
}

/** Removes this host's attachments of the network that are not in cni.dev/valid-attachments. */
async function gc(res: Resources, conf: NetConf): Promise<void> {
  const valid = new Set((conf.validAttachments ?? []).map((a) => `${a.containerID}\0${a.ifname}`));
  const stale = (cid: string, ifname: string): boolean => !valid.has(`${cid}\0${ifname}`);
  const errors: string[] = [];
  try {
    const db = await res.ovs(conf.ovsDb);
    for (const i of attachedInterfaces(db, conf.name)) {
      if (!stale(i.containerId, i.ifname)) continue;
      await deletePort(db, conf.bridge, i.name).catch((err: Error) => void errors.push(err.message));
      await removeHostLink(conf.ovsNetns, i.name);
    }
  } catch (err) {
    errors.push((err as Error).message);
  }
  try {
    const c = await res.ipam(conf);
    const prefix = portPrefix(conf);
    const tags: number[] = [];
    for (const p of await ipamCall(() => c.listPorts({ device_owner: DEVICE_OWNER }))) {
      if (!p.name.startsWith(prefix)) continue;
      const cid = (p as { device_id?: string }).device_id ?? '';
      if (!stale(cid, p.name.slice(prefix.length))) continue;
      await deleteNeutronPort(c, p.id).then(
        () => {
          const t = tagOf(p['binding:profile']);
          if (conf.mode === 'nested' && t !== undefined) tags.push(t);
        },
        (err: Error) => void errors.push(err.message),
      );
    }
    await releaseTags(res, conf, tags);
  } catch (err) {
    errors.push((err as Error).message);
  }
  if (errors.length > 0) throw new CniError(CNI_CODE.TRY_AGAIN_LATER, `GC left some attachments: ${errors.join('; ')}`);
}
