/**
 * Action forms the OVN table uses that the first codec got wrong, checked
 * against `ovs-ofctl ofp-print` (the real decoder): `set_field:ANY->in_port`
 * and `push:`/`pop:`/`move:` of NXM_OF_IN_PORT travel as the 16-bit
 * NXM_OF_IN_PORT (OVS refuses OXM_OF_IN_PORT=ANY in set_field), the 32-bit
 * OXM_OF_IN_PORT stays nameable as `in_port_oxm`, and `ct(nat(src))` without
 * an address range prints as `nat(src)`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runOk } from '../helpers/proc.js';
import { toHex } from '../../src/openflow/codec/bytes.js';
import { normalizeActions } from '../../src/openflow/codec/actions.js';
import { encodeFlowMod } from '../../src/openflow/codec/messages.js';
import { formatActions, parseActions, parseFlow } from '../../src/openflow/flow-text.js';
import { OFPP } from '../../src/openflow/flow.js';

const CASES: readonly string[] = [
  'push:NXM_OF_IN_PORT[],set_field:ANY->in_port,resubmit(,65),pop:NXM_OF_IN_PORT[]',
  'set_field:LOCAL->in_port,set_field:7->in_port',
  'move:NXM_OF_IN_PORT[]->NXM_NX_REG14[0..15]',
  'push:OXM_OF_IN_PORT[],pop:OXM_OF_IN_PORT[]',
  'ct(commit,table=12,zone=NXM_NX_REG12[0..15],nat(src))',
  'ct(commit,table=13,zone=NXM_NX_REG11[0..15],nat(dst))',
  'ct(table=14,zone=NXM_NX_REG11[0..15],nat)',
];

for (const actions of CASES) {
  test(`ovs-ofctl ofp-print reads our encoding of ${actions} as the same actions`, async () => {
    const flow = parseFlow(`table=64,priority=100,ip,reg15=0x2 actions=${actions}`);
    assert.equal(formatActions(flow.actions), actions, 'our printer gives the text back');
    const out = await runOk('ovs-ofctl', ['ofp-print', toHex(encodeFlowMod(1, { command: 'ADD', flow }))]);
    const m = / actions=(.*)$/m.exec(out);
    assert.ok(m !== null, out);
    assert.equal(m[1], actions, out);
  });
}

test('set_field to in_port: the model keeps 32-bit port numbers, the wire 16 bits', () => {
  const [a] = normalizeActions(parseActions('set_field:ANY->in_port'));
  assert.deepEqual(a, { type: 'set_field', field: 'in_port', value: BigInt(OFPP.ANY) });
  assert.deepEqual(normalizeActions(parseActions('load:0xffff->NXM_OF_IN_PORT[]')), [a]);
  assert.throws(() => normalizeActions(parseActions('set_field:65536->in_port')), /16-bit port/);
});
