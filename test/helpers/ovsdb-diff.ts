/**
 * Differential runs of raw JSON-RPC against two OVSDB servers: the same
 * requests go to each over a fresh connection, and the replies and the
 * notifications that arrive are collected in order so that the two
 * transcripts can be compared once UUIDs are normalised.
 */
import { connect } from 'node:net';
import { JsonRpcSession, RpcError } from '../../src/lib/jsonrpc.js';
import { canonicalJson } from '../../src/ovsdb/error.js';
import { parseJson } from '../../src/lib/json-int.js';
import { knownUuids, normalizeUuids, sortRows } from './normalize.js';

export type Step = readonly [method: string, params: readonly unknown[]];

export interface Transcript {
  /** One entry per step: `{result}` or `{error}`. */
  readonly replies: unknown[];
  /** Notifications (method and params) in arrival order. */
  readonly notes: unknown[];
}

export async function openSession(sockPath: string): Promise<JsonRpcSession> {
  return new Promise((resolve, reject) => {
    const sock = connect(sockPath);
    sock.once('connect', () => resolve(new JsonRpcSession(sock)));
    sock.once('error', reject);
  });
}

/** Sends `steps` one after another on one connection and records what comes back. */
export async function runSteps(sockPath: string, steps: readonly Step[]): Promise<Transcript> {
  const s = await openSession(sockPath);
  const notes: unknown[] = [];
  s.setNotificationHandler((method, params) => notes.push({ method, params }));
  const replies: unknown[] = [];
  try {
    for (const [method, params] of steps) {
      try {
        replies.push({ result: await s.request(method, [...params]) });
      } catch (e) {
        if (!(e instanceof RpcError)) throw e;
        replies.push({ error: e.error });
      }
    }
    // A last round trip: every notification sent before it has arrived.
    await s.request('echo', []);
  } finally {
    s.close();
  }
  return { replies, notes };
}

/**
 * A transcript as comparable text: object members sorted, select rows in a
 * UUID-blind order (ovsdb-server returns them in hash order), notifications
 * grouped by monitor, UUIDs numbered by first appearance.
 */
export function normalizeTranscript(t: Transcript): string {
  // Members sorted first, so that rows are ordered by the same text on both sides.
  // Replies first, so UUIDs are numbered in the order the requests made them.
  const canonical = parseJson(canonicalJson([t.replies, byMonitor(t.notes)]));
  // Sorted again after numbering: objects keyed by UUID (table updates) in numbered order.
  return canonicalJson(parseJson(normalizeUuids(canonicalJson(sortRows(canonical, knownUuids(canonical))))));
}

/**
 * Notifications in order per monitor: ovsdb-server sends one commit's
 * updates to several monitors in its own order.
 */
function byMonitor(notes: readonly unknown[]): unknown[] {
  const id = (n: unknown): string => JSON.stringify((n as { params?: unknown[] }).params?.[0] ?? null);
  return [...notes].sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
}
