/**
 * The logical-flow fuzz inputs through the real parser too: `ovn-trace`
 * (OVN 23.03) parses a microflow with the same expression language, so a
 * sample of the generated matches (structure-aware, token streams, edits of
 * the real northd's matches, pathological ones) goes to both `ovn-trace`
 * and `ovnts trace` on one small SB. What one parser refuses ("error parsing
 * flow: …") the other must refuse, what one takes the other must take; the
 * FUZZ line also counts refusals worded differently (printed, not failed)
 * and inputs on which the real ovn-trace hung (killed after 20 s).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cleanupAll, run, runOk } from '../helpers/proc.js';
import { OVNTS, SB_SCHEMA, startServer } from '../helpers/ovsdb-servers.js';
import { expr, mutatedText, pathological, realFlows, tokens } from './wire-lflow-gen.js';
import { fuzzSettings, regressions } from './fuzz-env.js';

let sb: Awaited<ReturnType<typeof startServer>> | undefined;

before(async () => {
  sb = await startServer('real', [SB_SCHEMA]);
  await runOk('ovn-sbctl', [`--db=${sb.remote}`, 'create', 'Datapath_Binding', 'tunnel_key=1', 'external_ids:name=dp']);
});

after(async () => {
  await cleanupAll();
  await sb?.cleanup();
});

/** The parser's verdict: the refusal's message, `parsed` (whatever the trace did next), or `hung` (killed at the time limit). */
function verdict(r: { stdout: string; stderr: string; code: number | null; timedOut: boolean }): string {
  const m = /error parsing flow: ([^\n]*)/.exec(`${r.stdout}\n${r.stderr}`);
  if (m !== null) return m[1]!;
  return r.timedOut ? 'hung' : 'parsed';
}

/**
 * A known difference of `ovnts trace`'s microflows, not of the parser: it
 * refuses `is_chassis_resident()` in a microflow as ambiguous, ovn-trace
 * takes it (and `!!` before it is a syntax error there). Printed as `known`.
 */
const KNOWN = /is_chassis_resident/;

test('fuzz sample: ovnts trace and ovn-trace accept and refuse the same matches', { timeout: 900_000 }, async () => {
  const n = Math.min(fuzzSettings(40).runs, 5000);
  const real = realFlows();
  // The inputs that once disagreed come first.
  const past = regressions('lflow-vs-ovn-trace').map((r) => r.input as string);
  const inputs = [
    ...past,
    ...fc.sample(
      fc.oneof(
        { weight: 3, arbitrary: tokens },
        { weight: 4, arbitrary: expr },
        { weight: 1, arbitrary: pathological.filter((s) => s.length < 20_000) },
        { weight: 3, arbitrary: mutatedText(real.matches) },
      ),
      { numRuns: n, seed: fuzzSettings().seed },
    ),
  ].filter((s) => !s.includes('\0')); // a NUL cannot be a command-line argument
  const mismatches: string[] = [];
  const wording: string[] = [];
  const known: string[] = [];
  let refused = 0;
  let realHung = 0;
  for (const m of inputs) {
    const args = [`--db=${sb!.remote}`, '--minimal', 'dp', m];
    const [theirs, ours] = await Promise.all([
      run('ovn-trace', args, { timeoutMs: 20_000 }),
      run(OVNTS, ['trace', ...args], { timeoutMs: 20_000 }),
    ]);
    const a = verdict(theirs);
    const b = verdict(ours);
    if (b === 'hung') mismatches.push(`${JSON.stringify(m.slice(0, 200))}: ovnts trace hung`);
    if (a === 'hung') {
      realHung++;
      continue;
    }
    if (a !== 'parsed') refused++;
    const line = `${JSON.stringify(m.slice(0, 200))}\n    ovn-trace: ${a}\n    ovnts:     ${b}`;
    if ((a === 'parsed') !== (b === 'parsed')) (KNOWN.test(m) ? known : mismatches).push(line);
    else if (a !== b) wording.push(line);
  }
  console.log(
    `FUZZ target=lflow-vs-ovn-trace inputs=${inputs.length} refused_by_real=${refused} real_hung=${realHung} accept_refuse_mismatches=${mismatches.length} other_wording=${wording.length} known=${known.length}`,
  );
  for (const x of mismatches.slice(0, 20)) console.log(`  mismatch ${x}`);
  for (const x of wording.slice(0, 20)) console.log(`  wording ${x}`);
  for (const x of known.slice(0, 20)) console.log(`  known ${x}`);
  assert.ok(refused > 0 && refused < inputs.length, 'the sample has both kinds');
  assert.equal(mismatches.length, 0, mismatches.slice(0, 5).join('\n'));
});
