/**
 * A unix-socket proxy between one database client and its server, for chaos
 * tests: `cut(ms)` drops every connection through it and refuses new ones
 * (accepted and closed at once, as a peer that resets) for `ms`, then passes
 * connections again. The client sees its session lost and its reconnects
 * fail until the cut ends, as across a broken network path.
 */
import { mkdirSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { onCleanup } from './proc.js';
import type { OvsInstance } from './ovs.js';

export interface CutProxy {
  /** `unix:PATH` for the client. */
  readonly remote: string;
  /** Connections dropped by cuts so far. */
  readonly dropped: number;
  /** Drops every connection, refuses for `ms`, then accepts again; resolves when the cut is over. */
  cut(ms: number): Promise<void>;
}

/** Listens on `path` and forwards each connection to the unix socket `target`; closed by cleanupAll. */
export async function startCutProxy(path: string, target: string): Promise<CutProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let refusing = false;
  let dropped = 0;
  const server = createServer((client) => {
    client.on('error', () => undefined);
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(target);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const forget = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.once('close', forget);
    upstream.once('close', forget);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(path, r));
  onCleanup(async () => {
    for (const [a, b] of pairs) {
      a.destroy();
      b.destroy();
    }
    await new Promise((r) => server.close(r));
  });
  return {
    remote: `unix:${path}`,
    get dropped() {
      return dropped;
    },
    cut: async (ms) => {
      refusing = true;
      for (const [a, b] of [...pairs]) {
        dropped++;
        a.destroy();
        b.destroy();
      }
      await new Promise((r) => setTimeout(r, ms));
      refusing = false;
    },
  };
}

/** A controller's two links to its chassis' Open vSwitch, each through a {@link CutProxy}. */
export interface OvsLinkProxies {
  /** The OVS instance as the controller is to see it: its database and `br-int.mgmt` behind the proxies. */
  readonly ovs: OvsInstance;
  /** The controller's OVSDB connection to the local ovsdb-server. */
  readonly ovsdb: CutProxy;
  /** Its OpenFlow connections to `<bridge>.mgmt` (flows, and the packet-in service connection). */
  readonly openflow: CutProxy;
}

/**
 * Proxies in `dir` for a controller's links to `ovs`: the database socket,
 * and `<bridge>.mgmt` in a run directory of their own, which the controller
 * is given as OVS_RUNDIR (ovn-controller and ovnts controller both find the
 * management socket there). Each proxy connects to the real socket for every
 * new connection, so it follows an ovs-vswitchd restart.
 */
export async function startOvsLinkProxies(ovs: OvsInstance, dir: string, bridge = 'br-int'): Promise<OvsLinkProxies> {
  const rundir = join(dir, 'ovs-via-proxy');
  mkdirSync(rundir, { recursive: true });
  const realRundir = ovs.env['OVS_RUNDIR'] ?? ovs.dir;
  const [ovsdb, openflow] = await Promise.all([
    startCutProxy(join(rundir, 'db.sock'), ovs.dbSock),
    startCutProxy(join(rundir, `${bridge}.mgmt`), join(realRundir, `${bridge}.mgmt`)),
  ]);
  const viaProxies: OvsInstance = { ...ovs, dbRemote: ovsdb.remote, env: { ...ovs.env, OVS_RUNDIR: rundir } };
  return { ovs: viaProxies, ovsdb, openflow };
}
