/**
 * The floor under `ovnts ovsdb-server` on the mixed workload: a Node server
 * with the same I/O as ovnts (net sockets, src/lib/jsonrpc.ts's framing,
 * parsing and one write per session per turn) and no database. It answers
 * `monitor_cond` with nothing and each one-row `transact` insert with a new
 * UUID, and per turn of the event loop sends the replies, then one `update2`
 * with that turn's rows to every monitor, as ovnts and ovsdb-server do.
 *
 * No log, no transaction engine, no schema: what it costs per transaction is
 * what Node's sockets and JSON cost on this pattern, the least any Node
 * server could spend (bench/ovsdb.ts --floor runs it in ovnts's place).
 *
 *   node dist/bench/floor-server.js --remote=punix:PATH [ignored ovsdb-server options...]
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { rmSync } from 'node:fs';
import { JsonRpcSession, REPLY_LATER, RpcError } from '../src/lib/jsonrpc.js';
import { stringifyJson } from '../src/lib/json-int.js';

interface Insert {
  readonly rpc: JsonRpcSession;
  readonly id: unknown;
  readonly uuid: string;
  readonly row: unknown;
}

function main(): void {
  const remote = process.argv.find((a) => a.startsWith('--remote=punix:'));
  if (remote === undefined) {
    process.stderr.write('floor-server: --remote=punix:PATH is required\n');
    process.exit(2);
  }
  const path = remote.slice('--remote=punix:'.length);
  const monitors: Array<{ rpc: JsonRpcSession; head: string }> = [];
  let turn: Insert[] | null = null;

  const flush = (): void => {
    const inserts = turn ?? [];
    turn = null;
    const rows: Record<string, unknown> = {};
    for (const t of inserts) {
      rows[t.uuid] = { insert: t.row };
      t.rpc.reply(t.id, [{ uuid: ['uuid', t.uuid] }]);
    }
    const body = `${stringifyJson({ Logical_Switch: rows })}],"id":null}`;
    for (const m of monitors) if (!m.rpc.closed) m.rpc.sendText(m.head, body);
  };

  const server = createServer((sock) => {
    const rpc = new JsonRpcSession(sock);
    rpc.setRequestHandler((method, params, id) => {
      const p = params as unknown[];
      if (method === 'monitor_cond') {
        monitors.push({ rpc, head: `{"method":"update2","params":[${stringifyJson(p[1])},` });
        return {};
      }
      if (method !== 'transact') throw new RpcError('unknown method');
      const op = p[1] as { op?: unknown; row?: unknown };
      if (op?.op !== 'insert') throw new RpcError('floor-server: only one-row inserts');
      if (turn === null) {
        turn = [];
        setImmediate(flush);
      }
      turn.push({ rpc, id, uuid: randomUUID(), row: op.row });
      return REPLY_LATER;
    });
  });
  rmSync(path, { force: true });
  server.listen(path);
  process.on('SIGTERM', () => {
    server.close();
    rmSync(path, { force: true });
    process.exit(0);
  });
}

main();
