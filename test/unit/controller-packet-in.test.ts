/**
 * The packet-in dispatcher over pinctrl: the real seed lab's DHCPDISCOVER
 * from c51 with the real ovn-controller's put_dhcp_opts userdata resumes with
 * pinctrl's OFFER and the result bit (reg0[3] = xxreg0 bit 99) set; put_arp
 * gives a MAC binding from the packet-in's logical fields; bad userdata,
 * truncated frames and unhandled opcodes are counted drops, never exceptions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { fromHex, toHex } from '../../src/lib/packet/addr.js';
import { answerPutDhcpOpts, type DhcpAnswer } from '../../src/controller/pinctrl/dhcp.js';
import { encodeOpcodeOnly, encodePutArp } from '../../src/controller/pinctrl/userdata.js';
import { handlePacketIn, PacketInStats } from '../../src/controller/packet-in.js';

const FIX = new URL('../../../test/fixtures/packets/', import.meta.url);
const frame = (name: string): Uint8Array => fromHex(readFileSync(new URL(name, FIX), 'utf8'));
/** The real controller's put_dhcp_opts userdata for dmz-c51 (as in pinctrl-dhcp.test.ts). */
const USERDATA = fromHex('00000002 00000000 0001de10 00000063 ac10ff85 330400000e10 0104ffffffc0 0304ac10ff81 3604ac10ff81');
const NO_FIELDS = new Map<string, bigint>();

test('put_dhcp_opts: resume with the OFFER and the result bit set', () => {
  const discover = frame('dhcp-c51-discover.hex');
  const v = handlePacketIn({ packet: discover, userdata: USERDATA, fields: NO_FIELDS });
  assert.equal(v.kind, 'resume');
  if (v.kind !== 'resume') return;
  const direct = answerPutDhcpOpts(discover, USERDATA) as DhcpAnswer;
  assert.equal(toHex(v.packet), toHex(direct.reply));
  assert.deepEqual(v.set, [{ field: 'xxreg0', value: 1n << 99n, mask: 1n << 99n }]);
});

test('put_arp: a MAC binding from metadata, reg14, reg0 and the source MAC', () => {
  const f = frame('dhcp-c51-discover.hex');
  const v = handlePacketIn({
    packet: f,
    userdata: encodePutArp(),
    fields: new Map([
      ['metadata', 1n],
      ['reg14', 3n],
      ['reg0', 0xac10ff85n],
    ]),
  });
  assert.deepEqual(v, { kind: 'mac-binding', binding: { datapathKey: 1, portKey: 3, ip: '172.16.255.133', mac: '02:ac:10:ff:01:33' } });
});

test('drops: bad userdata, truncated frame, unhandled opcode; counted per reason', () => {
  const lines: string[] = [];
  const stats = new PacketInStats((m) => lines.push(m));
  const f = frame('dhcp-c51-discover.hex');
  const cases = [
    handlePacketIn({ packet: f, userdata: USERDATA.subarray(0, 5), fields: NO_FIELDS }),
    handlePacketIn({ packet: f.subarray(0, 20), userdata: USERDATA, fields: NO_FIELDS }),
    handlePacketIn({ packet: f, userdata: encodeOpcodeOnly(7), fields: NO_FIELDS }),
    handlePacketIn({ packet: f, userdata: USERDATA.subarray(0, 5), fields: NO_FIELDS }),
  ];
  assert.deepEqual(
    cases.map((c) => (c.kind === 'drop' ? c.reason : c.kind)),
    ['bad-userdata', 'malformed-packet', 'unsupported-opcode', 'bad-userdata'],
  );
  for (const c of cases) stats.record(c);
  assert.equal(stats.drops.get('bad-userdata'), 2);
  // One log line per reason within the interval.
  assert.equal(lines.length, 3);
  // With no interval every drop is logged, each with its running count.
  const every: string[] = [];
  const all = new PacketInStats((m) => every.push(m), 0);
  for (const c of cases) all.record(c);
  assert.equal(every.length, 4);
  assert.match(every[3] as string, /^packet-in dropped \(bad-userdata\): .* \[2 so far\]$/);
});

test('property: random packets and userdata never throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.uint8Array({ maxLength: 80 }), (packet, userdata) => {
      const v = handlePacketIn({ packet, userdata, fields: NO_FIELDS });
      assert.ok(['resume', 'packet-out', 'mac-binding', 'drop'].includes(v.kind));
    }),
  );
  // With valid put_dhcp_opts userdata and random frames, too.
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (packet) => {
      handlePacketIn({ packet, userdata: USERDATA, fields: NO_FIELDS });
    }),
  );
});
