/**
 * Controller-action userdata: encodings compared with the bytes the real
 * ovn-controller 23.03 installed for the seed lab (captured with
 * `ovs-ofctl -O OpenFlow15 dump-flows br-int`), round trips, and clean
 * rejection of every truncation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parseActions, type Action } from '../../src/lib/lflow/index.js';
import { fromHex, toHex } from '../../src/lib/packet/addr.js';
import {
  ACTION_OPCODE,
  UserdataError,
  decodeUserdata,
  dhcpOptionArgs,
  encodeArp,
  encodeDhcpOption,
  encodeDomainSearchList,
  encodePutArp,
  encodePutDhcpOpts,
  encodePutDhcpOptsAction,
} from '../../src/controller/pinctrl/userdata.js';

/** The real controller's userdata for dmz-c51's put_dhcp_opts (seed lab). */
const REAL_C51 = fromHex(`
  00000002 00000000   # opcode 2 (put_dhcp_opts), pad
  0001de10            # NXM_NX_XXREG0 header (class 1, field 111, 16 bytes)
  00000063            # bit 99 of xxreg0 = reg0[3]
  ac10ff85            # offerip 172.16.255.133
  33 04 00000e10      # option 51 lease_time 3600
  01 04 ffffffc0      # option 1 netmask 255.255.255.192
  03 04 ac10ff81      # option 3 router 172.16.255.129
  36 04 ac10ff81      # option 54 server_id 172.16.255.129
`);

const C51_ACTION =
  'reg0[3] = put_dhcp_opts(offerip = 172.16.255.133, lease_time = 3600, netmask = 255.255.255.192, router = 172.16.255.129, server_id = 172.16.255.129); next;';

function putDhcp(text: string): Extract<Action, { type: 'result' }> {
  const a = parseActions(text)[0];
  assert.ok(a !== undefined && a.type === 'result' && a.name === 'put_dhcp_opts');
  return a;
}

test('put_dhcp_opts encodes as the real ovn-controller did (seed lab, dmz-c51)', () => {
  const a = putDhcp(C51_ACTION);
  const field = a.dst.name;
  const bit = a.dst.lo ?? 0;
  assert.equal(toHex(encodePutDhcpOpts({ field, bit }, dhcpOptionArgs(a.args))), toHex(REAL_C51));
  assert.equal(toHex(encodePutDhcpOptsAction(a)), toHex(REAL_C51));
  // The same bit named on the base field.
  assert.equal(toHex(encodePutDhcpOpts({ field: 'xxreg0', bit: 99 }, dhcpOptionArgs(a.args))), toHex(REAL_C51));
});

test('put_dhcp_opts userdata decodes into result field, offer and options', () => {
  const d = decodeUserdata(REAL_C51);
  assert.equal(d.opcode, 'put_dhcp_opts');
  if (d.opcode !== 'put_dhcp_opts' || !('result' in d)) return assert.fail('not put_dhcp_opts');
  assert.deepEqual(d.result, { header: 0x0001de10, field: 'xxreg0', ofs: 99 });
  assert.equal(d.offerIp, 0xac10ff85);
  assert.deepEqual(
    d.options.map((o) => [o.code, toHex(o.data)]),
    [
      [51, '00000e10'],
      [1, 'ffffffc0'],
      [3, 'ac10ff81'],
      [54, 'ac10ff81'],
    ],
  );
});

test('every truncation of put_dhcp_opts userdata is rejected with UserdataError', () => {
  for (let n = 0; n < REAL_C51.length; n++) {
    const cut = REAL_C51.subarray(0, n);
    // Cuts exactly between two options are valid (fewer options).
    const ok = n === 20 || n === 26 || n === 32 || n === 38;
    if (ok) assert.equal(decodeUserdata(cut).opcode, 'put_dhcp_opts');
    else assert.throws(() => decodeUserdata(cut), UserdataError, `cut at ${n}`);
  }
});

test('option types: lists, integers, bool, strings, static routes, domain search list', () => {
  const args = dhcpOptionArgs(
    putDhcp(
      'reg0[3] = put_dhcp_opts(offerip = 10.0.0.2, dns_server = {8.8.8.8, 1.1.1.1}, mtu = 1400, default_ttl = 64, ' +
        'ip_forward_enable = 1, hostname = "vm1", classless_static_route = {30.0.0.0/24, 10.0.0.4, 0.0.0.0/0, 10.0.0.1}, ' +
        'domain_search_list = "eng.example.com,example.com,sales.example.org");',
    ).args,
  );
  const got = args.filter((o) => o.name !== 'offerip').map((o) => toHex(encodeDhcpOption(o.name, o.value)));
  assert.deepEqual(got, [
    '0608' + '08080808' + '01010101',
    '1a02' + '0578',
    '1701' + '40',
    '1301' + '01',
    '0c03' + toHex(new TextEncoder().encode('vm1')),
    // 24-bit prefix: 3 octets; /0: none.
    '790d' + '18' + '1e0000' + '0a000004' + '00' + '0a000001',
    '77' +
      toHex(Uint8Array.of(encodeDomainSearchList('eng.example.com,example.com,sales.example.org').length)) +
      toHex(encodeDomainSearchList('eng.example.com,example.com,sales.example.org')),
  ]);
  // eng.example.com, then a pointer to offset 4 ("example.com"), then sales.example.org in full.
  assert.equal(
    toHex(encodeDomainSearchList('eng.example.com,example.com,sales.example.org')),
    '03656e67076578616d706c6503636f6d00' + 'c004' + '0573616c6573076578616d706c65036f726700',
  );
});

test('bad option values are UserdataErrors', () => {
  assert.throws(() => encodePutDhcpOpts({ field: 'reg0', bit: 3 }, []), /requires offerip/);
  assert.throws(
    () => encodePutDhcpOpts({ field: 'reg0', bit: 40 }, [{ name: 'offerip', value: { type: 'string', value: 'x' } }]),
    UserdataError,
  );
  assert.throws(
    () => encodePutDhcpOpts({ field: 'eth.src', bit: 0 }, [{ name: 'offerip', value: { type: 'string', value: 'x' } }]),
    UserdataError,
  );
  assert.throws(() => encodeDhcpOption('mtu', { type: 'string', value: 'x' }), /requires numeric value/);
  assert.throws(
    () => encodeDhcpOption('default_ttl', { type: 'int', value: { kind: 'int', value: 256n, format: 'decimal' } }),
    /does not fit/,
  );
  assert.throws(() => encodeDhcpOption('hostname', { type: 'string', value: 'x'.repeat(256) }), /too long/);
  assert.throws(() => encodeDhcpOption('no_such', { type: 'string', value: 'x' }), /unknown DHCPv4 option/);
});

test('arp and put_arp userdata: header and opaque nested actions', () => {
  // The real controller's arp { eth.dst = ff:ff:ff:ff:ff:ff; … output; } nested actions (seed lab).
  const nested = fromHex(
    '00190010800006 06ffffffffffff0000' +
      '001c00180020004000000000 0001de10 80002c04 00000000' +
      '001c00180020006000000000 0001de10 80002e04 00000000' +
      '0019001080002a02 0001000000000000' +
      'ffff00100000232000 0eff f8 25000000',
  );
  const ud = encodeArp(nested);
  assert.equal(toHex(ud.subarray(0, 8)), '0000000000000000');
  const d = decodeUserdata(ud);
  assert.equal(d.opcode, 'arp');
  assert.ok('nested' in d && toHex(d.nested) === toHex(nested));
  assert.equal(toHex(encodePutArp()), '0000000100000000');
  assert.equal(decodeUserdata(encodePutArp()).opcode, 'put_arp');
  assert.equal(ACTION_OPCODE.icmp, 10);
});

test('property: put_dhcp_opts encode → decode keeps field, offer and options', () => {
  const ipArb = fc.integer({ min: 0, max: 0xffffffff });
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 31 }),
      ipArb,
      fc.array(ipArb, { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 0, max: 0xffffffff }),
      (bit, offer, dns, lease) => {
        const int = (v: number) => ({
          type: 'int' as const,
          value: { kind: 'int' as const, value: BigInt(v), format: 'decimal' as const },
        });
        const ud = encodePutDhcpOpts({ field: 'reg2', bit }, [
          { name: 'offerip', value: int(offer) },
          { name: 'dns_server', value: { type: 'set', values: dns.map(int) } },
          { name: 'lease_time', value: int(lease) },
        ]);
        const d = decodeUserdata(ud);
        assert.ok(d.opcode === 'put_dhcp_opts' && 'result' in d);
        assert.equal(d.result.ofs, 32 + bit);
        assert.equal(d.offerIp, offer);
        assert.deepEqual(
          d.options.map((o) => o.code),
          [6, 51],
        );
        assert.equal(d.options[0]!.data.length, 4 * dns.length);
      },
    ),
  );
});

test('property: random bytes decode or throw UserdataError, nothing else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, forceDhcp) => {
      const b = Uint8Array.from(bytes);
      if (forceDhcp && b.length >= 4) b.set([0, 0, 0, 2], 0);
      try {
        decodeUserdata(b);
      } catch (e) {
        assert.ok(e instanceof UserdataError, String(e));
      }
    }),
  );
});

test('every OVN option type encodes as the real controller did (widened lab options, dmz-c51)', () => {
  const real = fromHex(readFileSync(new URL('../../../test/fixtures/packets/put-dhcp-opts-wide-c51.hex', import.meta.url), 'utf8'));
  // The action as the real northd wrote it (options sorted by name).
  const a = putDhcp(
    'reg0[3] = put_dhcp_opts(offerip = 172.16.255.133, T1 = 1800, T2 = 3150, bootfile_name = "pxelinux.0", bootfile_name_alt = "ipxe.efi", ' +
      'classless_static_route = {30.0.0.0/24,172.16.255.130, 10.0.0.0/8,172.16.255.131, 0.0.0.0/0,172.16.255.129}, default_ttl = 64, ' +
      'dns_server = {8.8.8.8, 1.1.1.1}, domain_name = "example.com", domain_search_list = "eng.example.com,example.com,sales.example.org", ' +
      'ip_forward_enable = 1, lease_time = 3600, mtu = 1400, netbios_node_type = 2, netmask = 255.255.255.192, ntp_server = 198.51.100.7, ' +
      'router = 172.16.255.129, server_id = 172.16.255.129, tftp_server = "tftp.example.com"); next;',
  );
  assert.equal(toHex(encodePutDhcpOpts({ field: a.dst.name, bit: a.dst.lo ?? 0 }, dhcpOptionArgs(a.args))), toHex(real));
});

test('the remaining option names encode as the real controller did (bootfile_name, bootfile_name_alt, next_server first)', () => {
  const real = fromHex(readFileSync(new URL('../../../test/fixtures/packets/put-dhcp-opts-rest-c51.hex', import.meta.url), 'utf8'));
  const a = putDhcp(
    'reg0[3] = put_dhcp_opts(offerip = 172.16.255.133, arp_cache_timeout = 120, bootfile_name = "undionly.kpxe", bootfile_name_alt = "snp.efi", ' +
      'broadcast_address = 172.16.255.191, ethernet_encap = 1, hostname = "c51-host", lease_time = 3600, log_server = 198.51.100.16, ' +
      'lpr_server = 198.51.100.17, ms_classless_static_route = {198.51.100.0/25,172.16.255.130, 0.0.0.0/0,172.16.255.129}, ' +
      'netbios_name_server = 198.51.100.19, netmask = 255.255.255.192, next_server = 198.51.100.10, nis_server = 198.51.100.18, ' +
      'path_prefix = "/tftpboot", policy_filter = {198.51.100.14, 198.51.100.15}, router = 172.16.255.129, router_discovery = 0, ' +
      'router_solicitation = 198.51.100.20, server_id = 172.16.255.129, swap_server = 198.51.100.13, tcp_keepalive_interval = 300, ' +
      'tcp_ttl = 65, tftp_server = 198.51.100.9, tftp_server_address = {198.51.100.11, 198.51.100.12}, wpad = "http://wpad.example.com/wpad.dat"); next;',
  );
  assert.equal(toHex(encodePutDhcpOpts({ field: a.dst.name, bit: a.dst.lo ?? 0 }, dhcpOptionArgs(a.args))), toHex(real));
});
