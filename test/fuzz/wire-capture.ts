/**
 * Records what a real ovs-vswitchd sends a controller, as the seed corpus of
 * the OpenFlow and pinctrl fuzz targets (test/fixtures/fuzz/wire/*.hex, one
 * frame per line). A private OVS in a private netns; the ovnts connection
 * talks to it through a recording unix-socket proxy while it does what the
 * controller does: handshake, flow/group/meter/TLV mods in bundles, dumps,
 * barriers, echo, a refused flow mod (error), a new port (port status), and
 * packet-ins (paused put_dhcp_opts with the real controller's userdata, arp,
 * icmp4, put_arp) from packet-outs of captured packets.
 *
 * Run (as root, after `npm run build`): node dist/test/fuzz/wire-capture.js
 */
import net from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetns, deleteNetns, runId } from '../helpers/netns.js';
import { startOvs, addIntegrationBridge } from '../helpers/ovs.js';
import { cleanupAll, tmpDir, waitFor } from '../helpers/proc.js';
import { OpenFlowConnection } from '../../src/openflow/connection.js';
import { takeFrames } from '../../src/openflow/codec/messages.js';
import { flow, mf, type Action } from '../../src/openflow/flow.js';
import { fromHex } from '../../src/lib/packet/addr.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const OUT = join(REPO, 'test', 'fixtures', 'fuzz', 'wire');
const PACKETS = join(REPO, 'test', 'fixtures', 'packets');

/** NXAST_RESUBMIT_TABLE resubmit(,22), as encoded nested actions. */
const RESUBMIT_22 = 'ffff0010 00002320 000e fff8 16 000000';

const packet = (name: string): Uint8Array => fromHex(readFileSync(join(PACKETS, name), 'utf8'));

/** A proxy in front of `target` that keeps every byte the switch sends. */
async function recordingProxy(listenPath: string, target: string, record: (d: Buffer) => void): Promise<net.Server> {
  const server = net.createServer((client) => {
    const up = net.connect(target);
    client.on('data', (d: Buffer) => up.write(d));
    up.on('data', (d: Buffer) => {
      record(d);
      client.write(d);
    });
    const end = (): void => {
      client.destroy();
      up.destroy();
    };
    client.on('close', end).on('error', end);
    up.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(listenPath, resolve));
  return server;
}

async function main(): Promise<void> {
  const ns = await createNetns(`${runId()}-fzc`);
  const ovs = await startOvs({ netns: ns });
  const tmp = tmpDir('ovnts-fuzz-capture');
  const chunks: Buffer[] = [];
  const proxy = await recordingProxy(join(tmp.path, 'proxy.mgmt'), join(ovs.dir, 'br-int.mgmt'), (d) => chunks.push(Buffer.from(d)));
  let conn: OpenFlowConnection | undefined;
  try {
    await addIntegrationBridge(ovs, 'protocols=OpenFlow15');
    conn = new OpenFlowConnection({ target: `unix:${join(tmp.path, 'proxy.mgmt')}` });
    const c = conn;
    await c.start();
    let packetIns = 0;
    c.on('packet-in2', () => packetIns++);
    await c.tlvTableMod('ADD', [{ optClass: 0x102, optType: 0x80, optLen: 4, index: 0 }]);
    await c.tlvTable();
    const put = fromHex(readFileSync(join(PACKETS, 'put-dhcp-opts-rest-c51.hex'), 'utf8'));
    const ctl = (userdata: Uint8Array, pause = false): Action => ({ type: 'controller', userdata, pause });
    await c.transactFlows([
      { command: 'ADD', groupId: 7, type: 'select', buckets: [{ actions: [{ type: 'output', port: 1 }] }, { weight: 5, actions: [] }] },
      {
        command: 'ADD',
        flow: flow(20, 30, [mf('dl_type', 0x0800n), mf('nw_proto', 17n)], [ctl(put, true), { type: 'resubmit', table: 21 }]),
      },
      // arp (opcode 0) and icmp4 (10) with nested actions (resubmit(,22)), put_arp (1).
      { command: 'ADD', flow: flow(20, 20, [mf('dl_type', 0x0806n)], [ctl(fromHex(`00000000 00000000 ${RESUBMIT_22}`))]) },
      { command: 'ADD', flow: flow(20, 10, [mf('dl_type', 0x0800n)], [ctl(fromHex(`0000000a 00000000 ${RESUBMIT_22}`))]) },
      {
        command: 'ADD',
        flow: flow(20, 5, [], [{ type: 'set_field', field: 'reg0', value: 0x0a000001n }, ctl(fromHex('00000001 00000000'))]),
      },
      { command: 'ADD', flow: flow(21, 1, [mf('reg0', 1n, 1n)], [{ type: 'group', groupId: 7 }], 0xabcn) },
    ]);
    await c.dumpFlows();
    await c.dumpGroups();
    await c.portDesc();
    await c.echo();
    await c.barrier();
    await c.meterMod({ command: 'ADD', meterId: 1, flags: 6, bands: [{ rate: 10, burstSize: 5 }] }).catch(() => undefined);
    // A refused flow mod: output to a group that does not exist.
    await c.flowMod({ command: 'ADD', flow: flow(22, 1, [], [{ type: 'group', groupId: 99 }]) }).catch(() => undefined);
    await ovs.vsctl('add-port', 'br-int', 'fz0', '--', 'set', 'Interface', 'fz0', 'type=internal');
    for (const name of ['dhcp-c51-discover.hex', 'dhcp-rest-request.hex', 'arp-router-request.hex', 'icmp-ping-ttl1.hex']) {
      await c.packetOut(packet(name), [{ type: 'resubmit', table: 20 }]);
    }
    await waitFor(() => packetIns >= 4, { what: 'the packet-ins' });
    await c.barrier();
  } finally {
    await conn?.stop();
    proxy.close();
    await ovs.stop();
    await deleteNetns(ns);
    await cleanupAll();
  }
  const { frames } = takeFrames(Buffer.concat(chunks));
  mkdirSync(OUT, { recursive: true });
  const lines = frames.map((f) => Buffer.from(f).toString('hex'));
  writeFileSync(
    join(OUT, 'openflow-from-switch.hex'),
    `# every OpenFlow 1.5 frame a real ovs-vswitchd (OVS 3.1) sent a controller; test/fuzz/wire-capture.ts, one per line\n${lines.join('\n')}\n`,
  );
  console.log(`${frames.length} frames`);
}

await main();
