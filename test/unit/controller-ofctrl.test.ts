/**
 * ofctrl's reconciliation: the diff between the installed and the desired
 * table, duplicates, and the install sequence over a switch link (a table kept
 * in memory, which is what the link's contract describes: a bundle applies all
 * or nothing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { diffFlows, indexFlows, Ofctrl, type FlowDiff, type FlowKeys, type SwitchLink } from '../../src/controller/ofctrl.js';

interface F {
  readonly table: number;
  readonly priority: number;
  readonly match: string;
  readonly actions: string;
}

const KEYS: FlowKeys<F> = {
  identity: (f) => `${f.table}/${f.priority}/${f.match}`,
  content: (f) => f.actions,
};

const f = (table: number, priority: number, match: string, actions: string): F => ({ table, priority, match, actions });

/** Applies a diff the way OVS applies a bundle of flow mods. */
function apply(table: Map<string, F>, d: FlowDiff<F>): void {
  for (const x of d.remove) table.delete(KEYS.identity(x));
  for (const x of [...d.add, ...d.modify]) table.set(KEYS.identity(x), x);
}

test('diffFlows: add, modify, remove, unchanged', () => {
  const installed = indexFlows(
    [f(0, 100, 'in_port=1', 'resubmit(,8)'), f(8, 50, 'metadata=0x1', 'drop'), f(9, 0, '', 'resubmit(,10)')],
    KEYS,
  );
  const desired = indexFlows(
    [f(0, 100, 'in_port=1', 'resubmit(,8)'), f(8, 50, 'metadata=0x1', 'resubmit(,9)'), f(10, 0, '', 'drop')],
    KEYS,
  );
  const d = diffFlows(installed, desired, KEYS);
  assert.deepEqual(d.add, [f(10, 0, '', 'drop')]);
  assert.deepEqual(d.modify, [f(8, 50, 'metadata=0x1', 'resubmit(,9)')]);
  assert.deepEqual(d.remove, [f(9, 0, '', 'resubmit(,10)')]);
});

test('indexFlows: the first of two flows with one identity wins, the conflict is reported', () => {
  const seen: string[] = [];
  const m = indexFlows([f(0, 1, 'x', 'a'), f(0, 1, 'x', 'b'), f(0, 1, 'x', 'a')], KEYS, (k, d) => seen.push(`${k.actions}/${d.actions}`));
  assert.equal(m.size, 1);
  assert.equal(m.get('0/1/x')?.actions, 'a');
  assert.deepEqual(seen, ['a/b']);
});

const flowArb = fc.record({
  table: fc.integer({ min: 0, max: 3 }),
  priority: fc.integer({ min: 0, max: 3 }),
  match: fc.constantFrom('', 'in_port=1', 'metadata=0x1', 'reg14=0x2'),
  actions: fc.constantFrom('drop', 'resubmit(,8)', 'output:1'),
});

test('property: applying the diff to the installed table gives the desired table', () => {
  fc.assert(
    fc.property(fc.array(flowArb, { maxLength: 30 }), fc.array(flowArb, { maxLength: 30 }), (a, b) => {
      const installed = indexFlows(a, KEYS);
      const desired = indexFlows(b, KEYS);
      const table = new Map(installed);
      apply(table, diffFlows(installed, desired, KEYS));
      assert.deepEqual(new Map([...table].sort()), new Map([...desired].sort()));
      // And a second diff is empty (a recompute changes nothing).
      const again = diffFlows(table, desired, KEYS);
      assert.equal(again.add.length + again.modify.length + again.remove.length, 0);
    }),
  );
});

/** A switch whose table is a map; counts what it is sent. */
class TableLink implements SwitchLink<F> {
  connected = true;
  table = new Map<string, F>();
  bundles: FlowDiff<F>[] = [];
  dumps = 0;
  barriers = 0;
  refuse = false;
  identity = KEYS.identity;
  content = KEYS.content;
  async dumpFlows(): Promise<F[]> {
    this.dumps++;
    return [...this.table.values()];
  }
  async commitBundle(d: FlowDiff<F>): Promise<void> {
    if (this.refuse) throw new Error('OFPBFC_MSG_FAILED');
    this.bundles.push(d);
    apply(this.table, d);
  }
  async barrier(): Promise<void> {
    this.barriers++;
  }
}

test('Ofctrl: reads the table once per connection, sends only differences, keeps unchanged flows', async () => {
  const link = new TableLink();
  // Flows left by an earlier run (e.g. before a kill -9): one still wanted, one stale.
  link.table = indexFlows([f(0, 100, 'in_port=1', 'resubmit(,8)'), f(0, 100, 'in_port=9', 'resubmit(,8)')], KEYS);
  const o = new Ofctrl(link);
  const desired = [f(0, 100, 'in_port=1', 'resubmit(,8)'), f(0, 0, '', 'drop')];
  assert.equal(await o.install(desired), true);
  assert.equal(link.dumps, 1);
  assert.equal(link.bundles.length, 1);
  assert.deepEqual(link.bundles[0]!.add, [f(0, 0, '', 'drop')]);
  assert.deepEqual(link.bundles[0]!.remove, [f(0, 100, 'in_port=9', 'resubmit(,8)')]);
  assert.deepEqual([...link.table.keys()].sort(), ['0/0/', '0/100/in_port=1']);
  // Same desired table: no bundle and no barrier (nothing was sent to wait for).
  assert.equal(await o.install(desired), true);
  assert.equal(link.bundles.length, 1);
  assert.equal(link.barriers, 1);
  assert.equal(link.dumps, 1);
  // Reconnect: the table is read again before the next diff.
  o.connectionReset();
  link.table.delete('0/0/');
  await o.install(desired);
  assert.equal(link.dumps, 2);
  assert.deepEqual(link.bundles[1]!.add, [f(0, 0, '', 'drop')]);
});

test('Ofctrl: a refused bundle changes nothing and the next install re-reads the table', async () => {
  const link = new TableLink();
  const o = new Ofctrl(link);
  await o.install([f(0, 0, '', 'drop')]);
  link.refuse = true;
  await assert.rejects(o.install([f(0, 0, '', 'drop'), f(1, 0, '', 'bad')]), /MSG_FAILED/);
  assert.deepEqual([...link.table.keys()], ['0/0/']);
  link.refuse = false;
  await o.install([f(0, 0, '', 'drop'), f(1, 0, '', 'resubmit(,2)')]);
  assert.equal(link.dumps, 2);
  assert.deepEqual([...link.table.keys()].sort(), ['0/0/', '1/0/']);
  link.connected = false;
  assert.equal(await o.install([]), false);
});
