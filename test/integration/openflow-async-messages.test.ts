/**
 * `asyncMessages: false` on a real ovs-vswitchd: of two connections to the
 * same management socket, the one that keeps miss_send_len 0 gets none of
 * the packet-ins a controller action sends, the default one gets each. The
 * controller's flow connection runs this way, so pinctrl's packet-ins are not
 * also sent to (and decoded on) it.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createNetns, runId } from '../helpers/netns.js';
import { startOvs, addIntegrationBridge } from '../helpers/ovs.js';
import { cleanupAll, waitFor } from '../helpers/proc.js';
import { OpenFlowConnection } from '../../src/openflow/connection.js';
import { flow, mf } from '../../src/openflow/flow.js';

after(cleanupAll);

test('a connection without async messages gets no packet-ins; the default one gets each', { timeout: 120_000 }, async () => {
  const ns = await createNetns(`${runId()}-ofa`);
  const ovs = await startOvs({ netns: ns });
  await addIntegrationBridge(ovs, 'protocols=OpenFlow15');
  const target = `unix:${join(ovs.dir, 'br-int.mgmt')}`;
  const on = new OpenFlowConnection({ target });
  const off = new OpenFlowConnection({ target, asyncMessages: false });
  try {
    await on.start();
    await off.start();
    let onCount = 0;
    let offCount = 0;
    on.on('packet-in2', () => onCount++);
    off.on('packet-in2', () => offCount++);
    await on.transactFlows([
      { command: 'ADD', flow: flow(20, 10, [mf('dl_type', 0x0806n)], [{ type: 'controller', userdata: new Uint8Array([1, 2]) }]) },
    ]);
    const frame = Buffer.from('ffffffffffff020000000001080600010800060400010200000000010a0000010000000000000a000002', 'hex');
    for (let i = 0; i < 3; i++) await on.packetOut(frame, [{ type: 'resubmit', table: 20 }]);
    await waitFor(async () => onCount === 3, { what: 'three packet-ins on the default connection' });
    // OVS queues a packet-in to every subscribed connection at once; a barrier answered after it shows none was queued here.
    await off.barrier();
    assert.equal(offCount, 0);
    assert.equal(onCount, 3);
  } finally {
    await on.stop();
    await off.stop();
    await ovs.stop();
  }
});
