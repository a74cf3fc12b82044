/**
 * The connections an attachment needs: this host's OVS database (an OVSDB
 * client with its replica) and the IPAM (a Neutron client; fetch keeps its
 * HTTP connections alive). A one-shot plugin opens them for one invocation;
 * the resident agent and the Docker plugin keep them across requests, which
 * is where their speed comes from (no connection, monitor or token per ADD).
 */
import { OvsDb } from '../host/ovs-db.js';
import type { NeutronClient } from '../host/neutron.js';
import type { NetConf } from './config.js';
import { connectIpam } from './ipam.js';

/** Keystone tokens live an hour by default; a kept client re-authenticates well before. */
const TOKEN_REUSE_MS = 15 * 60 * 1000;

export class Resources {
  private readonly dbs = new Map<string, Promise<OvsDb>>();
  private readonly ipams = new Map<string, { client: Promise<NeutronClient>; at: number }>();
  /** Opens not settled yet. */
  private readonly opening = new Set<Promise<OvsDb>>();

  /** The OVS database at `remote`, opened on first use. */
  async ovs(remote: string): Promise<OvsDb> {
    let db = this.dbs.get(remote);
    // A connection that went away (ovsdb-server restarted) is opened again.
    if (db !== undefined && !(await db.then((d) => d.connected).catch(() => false))) {
      if (this.dbs.get(remote) === db) this.dbs.delete(remote);
      void db.then((d) => d.close()).catch(() => undefined);
      db = this.dbs.get(remote);
    }
    if (db === undefined) {
      const opened = OvsDb.open(remote);
      db = opened;
      this.dbs.set(remote, db);
      this.opening.add(db);
      const settled = (): void => void this.opening.delete(opened);
      db.then(settled, settled);
      // A failed open is not kept: the next request tries again.
      db.catch(() => this.dbs.get(remote) === db && this.dbs.delete(remote));
    }
    return db;
  }

  /** The IPAM client of `conf` (its endpoint and credentials). */
  ipam(conf: NetConf): Promise<NeutronClient> {
    const key = JSON.stringify([conf.endpoint, conf.auth ?? null]);
    const kept = this.ipams.get(key);
    if (kept !== undefined && (conf.auth === undefined || Date.now() - kept.at < TOKEN_REUSE_MS)) return kept.client;
    const client = connectIpam(conf);
    const entry = { client, at: Date.now() };
    this.ipams.set(key, entry);
    client.catch(() => this.ipams.get(key) === entry && this.ipams.delete(key));
    return client;
  }

  /**
   * Closes the OVS connections. One still opening (a database that accepts and
   * does not answer) is closed when its open settles, without waiting for it:
   * a stopping daemon must not wait out the open's timeout.
   */
  async close(): Promise<void> {
    const dbs = [...this.dbs.values()];
    this.dbs.clear();
    this.ipams.clear();
    // Closed as they arrive; only the opened ones are waited for.
    const waited = dbs.filter((p) => !this.opening.has(p));
    for (const p of dbs) if (this.opening.has(p)) void p.then((d) => d.close()).catch(() => undefined);
    await Promise.all(waited.map((p) => p.then((d) => d.close()).catch(() => undefined)));
  }
}
