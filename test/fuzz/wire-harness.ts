/**
 * The fuzz loop the wire targets share (test/fuzz/wire-*.test.ts): fast-check
 * drives the inputs, every input is checked, and the run goes on after a
 * failure so a campaign counts crashes and hangs instead of stopping at the
 * first. The environment chooses the size of the run:
 *
 * - `FUZZ_RUNS`: inputs per target (default: the target's smoke size, so
 *   the suite stays short); a campaign sets 1000000.
 * - `FUZZ_SEED`: fast-check's seed (fixed default, so a failure reproduces).
 * - `FUZZ_PATH`: replays one input: a failure prints `FUZZ_SEED=… FUZZ_PATH=…`.
 * - `FUZZ_SECONDS`: stops a campaign after this long (the line then says how many inputs ran).
 *
 * Each target prints one line
 * `FUZZ target=<name> inputs=<n> crashes=<n> hangs=<n> peak_rss_mb=<n> seconds=<s>`
 * and fails when there was any crash or hang, naming the first few.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';

export const DEFAULT_SEED = 20261207;

export interface FuzzOptions {
  /** Inputs in the smoke run (FUZZ_RUNS overrides). */
  readonly smokeRuns: number;
  /** An input taking longer than this is a hang. Default 2000 ms. */
  readonly hangMs?: number;
  /** Peak RSS in MiB of the process under test, when it is not this one (a daemon). */
  readonly peakRssMb?: () => number;
}

/** What a check throws when the target misbehaved (anything else it throws is a crash too). */
export class FuzzFailure extends Error {
  override readonly name = 'FuzzFailure';
}

interface Failure {
  readonly kind: 'crash' | 'hang';
  readonly path: number;
  readonly input: string;
  readonly error: string;
}

export function fuzzRuns(smoke: number): number {
  const v = process.env['FUZZ_RUNS'];
  return v === undefined || v === '' ? smoke : Math.max(1, Number.parseInt(v, 10));
}

export function fuzzSeed(): number {
  const v = process.env['FUZZ_SEED'];
  return v === undefined || v === '' ? DEFAULT_SEED : Number.parseInt(v, 10);
}

/** A test's time limit that grows with the run (a campaign's million inputs take long). */
export function fuzzTimeoutMs(smokeRuns: number, msPerInput: number): number {
  return 120_000 + fuzzRuns(smokeRuns) * msPerInput;
}

function show(v: unknown): string {
  const s =
    v instanceof Uint8Array
      ? Buffer.from(v).toString('hex')
      : (() => {
          try {
            return fc.stringify(v);
          } catch {
            return String(v);
          }
        })();
  return s.length > 600 ? `${s.slice(0, 600)}… (${s.length} chars)` : s;
}

function ownPeakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** Peak RSS (VmHWM) of another process, in MiB; 0 when it is gone. */
export function peakRssMbOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m === null ? 0 : Math.round(Number(m[1]) / 1024);
  } catch {
    return 0;
  }
}

/**
 * Runs `check` on `runs` inputs of `arb` (awaited one after another). A
 * check that throws or rejects is a crash; one that does not settle within
 * `hangMs`, or burns more than `hangMs` of CPU time, is a hang (an async one
 * is abandoned then, the run goes on).
 */
export async function fuzz<T>(
  target: string,
  arb: fc.Arbitrary<T>,
  check: (input: T) => void | Promise<void>,
  opts: FuzzOptions,
): Promise<void> {
  const runs = fuzzRuns(opts.smokeRuns);
  const seed = fuzzSeed();
  const replay = process.env['FUZZ_PATH'];
  const hangMs = opts.hangMs ?? 2000;
  const failures: Failure[] = [];
  let crashes = 0;
  let hangs = 0;
  let index = 0;
  const started = performance.now();
  const property = fc.asyncProperty(arb, async (input) => {
    const path = replay === undefined || replay === '' ? index++ : Number(replay);
    const cpu0 = process.cpuUsage();
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      (async () => {
        try {
          await check(input);
          return undefined;
        } catch (e) {
          return e instanceof Error ? (e.stack ?? e.message) : String(e);
        }
      })(),
      new Promise<'hang'>((resolve) => {
        timer = setTimeout(() => resolve('hang'), hangMs);
      }),
    ]);
    clearTimeout(timer);
    // CPU time, not wall time, for work done here: the machine may be shared (a synchronous check
    // that spins is still caught; one that waits on a peer is caught by the timer above).
    const cpu = process.cpuUsage(cpu0);
    const slow = (cpu.user + cpu.system) / 1000 > hangMs;
    if (outcome === 'hang' || (outcome === undefined && slow)) {
      hangs++;
      if (failures.length < 5) failures.push({ kind: 'hang', path, input: show(input), error: `took over ${hangMs} ms` });
    } else if (outcome !== undefined) {
      crashes++;
      if (failures.length < 5) failures.push({ kind: 'crash', path, input: show(input), error: outcome });
    }
    return true;
  });
  const seconds0 = process.env['FUZZ_SECONDS'];
  await fc.assert(property, {
    numRuns: replay === undefined || replay === '' ? runs : 1,
    ...(seconds0 === undefined || seconds0 === ''
      ? {}
      : { interruptAfterTimeLimit: Number(seconds0) * 1000, markInterruptAsFailure: false }),
    seed,
    ...(replay === undefined || replay === '' ? {} : { path: replay }),
  });
  const seconds = (performance.now() - started) / 1000;
  const rss = Math.max(ownPeakRssMb(), opts.peakRssMb?.() ?? 0);
  console.log(
    `FUZZ target=${target} inputs=${index === 0 ? 1 : index} crashes=${crashes} hangs=${hangs} peak_rss_mb=${rss} seconds=${seconds.toFixed(1)}`,
  );
  assert.equal(
    crashes + hangs,
    0,
    `${target}: ${crashes} crashes, ${hangs} hangs in ${index} inputs\n` +
      failures.map((f) => `${f.kind} FUZZ_SEED=${seed} FUZZ_PATH=${f.path}\n  input: ${f.input}\n  ${f.error}`).join('\n'),
  );
}

/** Byte-level mutations of captured traffic: flips, overwrites, cuts, insertions, length-field lies. */
export function mutated(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const edit = fc.oneof(
    fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
    fc.record({
      op: fc.constant('set' as const),
      at: fc.nat(),
      byte: fc.constantFrom(0, 1, 0x7f, 0x80, 0xfe, 0xff),
      len: fc.integer({ min: 1, max: 4 }),
    }),
    fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('drop' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 32 }) }),
    fc.record({ op: fc.constant('random' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  );
  return fc.tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 4 })).map(([seed, edits]) => {
    let b = Uint8Array.from(seed);
    for (const e of edits) {
      const at = b.length === 0 ? 0 : e.at % (b.length + 1);
      switch (e.op) {
        case 'flip':
          if (at < b.length) b[at] = b[at]! ^ (1 << e.bit);
          break;
        case 'set':
          for (let i = 0; i < e.len && at + i < b.length; i++) b[at + i] = e.byte;
          break;
        case 'cut':
          b = b.slice(0, at);
          break;
        case 'drop':
          b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + e.len)]);
          break;
        case 'insert':
          b = Uint8Array.from([...b.subarray(0, at), ...e.bytes, ...b.subarray(at)]);
          break;
        case 'random':
          b.set(e.bytes.subarray(0, Math.max(0, b.length - at)), at);
          break;
      }
    }
    return b;
  });
}
