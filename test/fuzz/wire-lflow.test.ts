/**
 * Fuzz: the logical-flow language (src/lib/lflow), whose matches come from
 * users through the NB (ACLs): every string is parsed, expanded and
 * translated by the controller, or refused with an LflowError (the
 * controller's ActionError for actions it cannot lower), in bounded time.
 * Inputs: random token streams over the language's own vocabulary,
 * structure-aware expressions (nesting, negation, sets, subfields,
 * predicates), pathological ones (nesting thousands deep, constants of
 * hundreds of digits, sets of thousands, products that expand
 * exponentially), and the matches and actions the real ovn-northd wrote
 * for the seed lab (test/fixtures/northd/small-stateful.lflows), mutated.
 */
import { test } from 'node:test';
import fc from 'fast-check';
import { LflowError, expandMatch, parseActions, parseMatch, printMatch, toConjunctions } from '../../src/lib/lflow/index.js';
import { planMatch } from '../../src/controller/lflow/match.js';
import { FlowModelError } from '../../src/openflow/flow.js';
import { ActionError, translateActions } from '../../src/controller/lflow/actions.js';
import { FuzzFailure, fuzz, fuzzTimeoutMs } from './fuzz-env.js';
import { ACTIONS, CONSTANTS, FIELDS, PUNCT, expr, mutatedText, pathological, realFlows, tokens } from './wire-lflow-gen.js';

const SETS = new Map([['as1', ['10.0.0.1', '10.0.0.2']]]);
const GROUPS = new Map([['pg1', ['lp1', 'lp2']]]);
const lookups = { addressSet: (n: string) => SETS.get(n), portGroup: (n: string) => GROUPS.get(n) };
const matchContext = {
  ...lookups,
  portKey: (n: string) => (n === 'lp1' ? 1 : n === 'lp2' ? 2 : undefined),
  isResident: (p: string) => p === 'lp1',
};

function clean(e: unknown, what: string, also?: new (...a: never[]) => Error): void {
  if (e instanceof LflowError || (also !== undefined && e instanceof also)) return;
  throw new FuzzFailure(`${what}: not a clean error: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
}

test(
  'fuzz: every match is parsed, expanded and translated, or refused with a parse error',
  { timeout: fuzzTimeoutMs(10_000, 20) },
  async () => {
    const real = realFlows();
    await fuzz(
      'lflow-match',
      fc.oneof(
        { weight: 10, arbitrary: tokens },
        { weight: 12, arbitrary: expr },
        { weight: 1, arbitrary: pathological },
        { weight: 10, arbitrary: mutatedText(real.matches) },
      ),
      (text) => {
        let parsed;
        try {
          parsed = parseMatch(text, lookups);
        } catch (e) {
          clean(e, 'parseMatch');
          return;
        }
        try {
          printMatch(parsed);
          toConjunctions(expandMatch(parsed, lookups));
        } catch (e) {
          clean(e, 'expand');
        }
        try {
          planMatch(text, matchContext);
        } catch (e) {
          // A partial mask on a field OVS cannot mask (`!ip.is_frag` negates eth.type bit by bit): the real
          // controller's flow is refused by the switch, ours by the flow model; either way no flow, one log line.
          clean(e, 'planMatch', FlowModelError);
        }
      },
      { smokeRuns: 10_000, hangMs: 2_000 },
    );
  },
);

test(
  'fuzz: every actions string is parsed and lowered, or refused with a clean error',
  { timeout: fuzzTimeoutMs(10_000, 20) },
  async () => {
    const real = realFlows();
    const actionTokens = fc
      .array(fc.oneof(fc.constantFrom(...ACTIONS), fc.constantFrom(...FIELDS), fc.constantFrom(...CONSTANTS), fc.constantFrom(...PUNCT)), {
        maxLength: 20,
      })
      .map((t) => t.join(' '));
    const nested = fc.integer({ min: 1, max: 5_000 }).map((n) => `${'clone { '.repeat(n)}output;${' };'.repeat(n)}`);
    await fuzz(
      'lflow-actions',
      fc.oneof(
        { weight: 3, arbitrary: actionTokens },
        { weight: 3, arbitrary: mutatedText([...real.actions, ...ACTIONS]) },
        { weight: 1, arbitrary: nested },
      ),
      (text) => {
        try {
          parseActions(text);
        } catch (e) {
          clean(e, 'parseActions');
          return;
        }
        try {
          translateActions(text, { pipeline: 'ingress', table: 3, isSwitch: true, portKey: matchContext.portKey });
        } catch (e) {
          clean(e, 'translateActions', ActionError);
        }
      },
      { smokeRuns: 10_000, hangMs: 2_000 },
    );
  },
);
