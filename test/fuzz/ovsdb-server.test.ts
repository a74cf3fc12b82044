/**
 * Fuzz target: `ovnts ovsdb-server` over a real unix socket. Each input is one
 * connection's bytes (generated JSON-RPC for every method, mutated captures of the
 * real ovn-nbctl and ovsdb-client, framing abuse); the connection is half-closed
 * after writing, and the server must answer in valid JSON-RPC and close it within
 * HANG_MS, while a second, long-lived client's `echo` is still answered. Under
 * FUZZ_PEER=1 the same inputs (same seed) go to the real ovsdb-server 3.1, whose
 * crashes are counted, not failed on.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { JsonFramer, JsonRpcSession } from '../../src/lib/jsonrpc.js';
import { startServer, type RunningServer, type ServerKind } from '../helpers/ovsdb-servers.js';
import { FuzzTally, HANG_MS, forEachBatch, fuzzSettings, regressions } from './fuzz-env.js';
import { connectionBytes, loadCaptures } from './ovsdb-inputs.js';

const settings = fuzzSettings();
const inputs = connectionBytes(loadCaptures());

type Outcome = 'closed' | 'hang' | 'bad-output';

/** Writes one input on a new connection, half-closes it, waits for the server to close. */
function deliver(path: string, bytes: Buffer, checkOutput: boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    const sock = connect(path);
    const framer = new JsonFramer();
    let bad = false;
    let done = false;
    const finish = (o: Outcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => finish('hang'), HANG_MS);
    sock.on('data', (d: Buffer) => {
      if (!checkOutput || bad) return;
      try {
        for (const m of framer.push(d)) if (typeof m !== 'object' || m === null || !('id' in m)) bad = true;
      } catch {
        bad = true;
      }
    });
    sock.on('error', () => finish(bad ? 'bad-output' : 'closed'));
    sock.on('close', () => finish(bad ? 'bad-output' : 'closed'));
    sock.on('connect', () => sock.end(bytes));
  });
}

/** A server under fuzz with a long-lived client that proves it keeps serving. */
class Target {
  private server: (RunningServer & { cleanup(): Promise<void> }) | undefined;
  private watcher: JsonRpcSession | undefined;
  readonly tally: FuzzTally;

  constructor(readonly kind: ServerKind) {
    this.tally = new FuzzTally(kind === 'real' ? 'ovsdb-server@real' : 'ovsdb-server');
  }

  get pid(): number | undefined {
    return this.server?.process.pid;
  }

  async start(): Promise<void> {
    this.server = await startServer(this.kind);
    await this.watch();
  }

  private async watch(): Promise<void> {
    const s = this.server;
    if (s === undefined) throw new Error('not started');
    const sock: Socket = connect(s.sockPath);
    await new Promise((r, j) => sock.once('connect', r).once('error', j));
    this.watcher = new JsonRpcSession(sock);
  }

  /** Is the process alive and does the watcher's echo come back in time? */
  private async healthy(): Promise<boolean> {
    const s = this.server;
    if (s === undefined || s.process.exitCode !== null || s.process.signalCode !== null) return false;
    const w = this.watcher;
    if (w === undefined || w.closed) return false;
    let timer: NodeJS.Timeout | undefined;
    const ok = await Promise.race([
      w.request('echo', ['alive']).then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), HANG_MS))),
    ]);
    clearTimeout(timer);
    return ok;
  }

  /**
   * Runs inputs concurrently, each on its own connection; returns what went wrong,
   * by input number. After a crash the server is started again on its files.
   */
  async run(group: readonly Buffer[], first: number, name = (i: number): string => `input ${first + i}`): Promise<string[]> {
    const s = this.server;
    if (s === undefined) throw new Error('not started');
    this.tally.inputs += group.length;
    const outcomes = await Promise.all(group.map((b) => deliver(s.sockPath, b, this.kind === 'ovnts')));
    const problems: string[] = [];
    if (await this.healthy()) {
      outcomes.forEach((o, i) => {
        if (o === 'hang') {
          this.tally.hangs++;
          problems.push(`${name(i)}: no answer or close within ${HANG_MS} ms`);
        } else if (o === 'bad-output') {
          problems.push(`${name(i)}: the server wrote something that is not a JSON-RPC message`);
        }
      });
      return problems;
    }
    const died = s.process.exitCode !== null || s.process.signalCode !== null;
    this.tally.sampleRss(this.pid);
    if (died) this.tally.crashes++;
    else this.tally.hangs++;
    this.watcher?.close();
    await s.stop();
    await s.restart();
    await this.watch();
    const which = group.length === 1 ? name(0) : `one of ${name(0)} … ${name(group.length - 1)}`;
    return [
      died
        ? `${which}: the server died (${s.process.exitCode ?? s.process.signalCode})`
        : `${which}: the server stopped answering other clients`,
    ];
  }

  async stop(): Promise<void> {
    this.tally.sampleRss(this.pid);
    this.watcher?.close();
    await this.server?.cleanup();
  }
}

/** Inputs in flight at once, each on its own connection. */
const CONCURRENCY = 16;

async function fuzz(kind: ServerKind, mustSurvive: boolean): Promise<void> {
  const target = new Target(kind);
  after(() => target.stop());
  await target.start();
  const problems: string[] = [];
  // The inputs that once broke the server come first (not when replaying one input).
  if (settings.path === undefined) {
    const regs = regressions('ovsdb-server');
    problems.push(
      ...(await target.run(
        regs.map((r) => r.input as Buffer),
        0,
        (i) => `regression ${i} (${regs[i]?.why})`,
      )),
    );
  }
  await forEachBatch(
    inputs,
    settings,
    async (batch, first) => {
      for (let i = 0; i < batch.length; i += CONCURRENCY) {
        const found = await target.run(batch.slice(i, i + CONCURRENCY), first + i);
        if (found.length > 0 && problems.length < 10) problems.push(...found);
      }
    },
    target.tally,
    () => target.pid,
  );
  await target.stop();
  if (settings.campaign) for (const p of problems.slice(0, 5)) console.log(`FUZZ-PROBLEM target=${target.tally.target} ${p}`);
  console.log(target.tally.line());
  if (mustSurvive && problems.length > 0) {
    assert.fail(`${problems.join('\n')}\n(replay one with FUZZ_SEED=${settings.seed} FUZZ_PATH=<input number>)`);
  }
}

test('ovnts ovsdb-server answers or closes every input and keeps serving', () => fuzz('ovnts', true));

test('the real ovsdb-server under the same inputs (FUZZ_PEER=1)', { skip: !settings.peer }, () => fuzz('real', false));
