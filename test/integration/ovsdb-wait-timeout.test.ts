/**
 * A "wait" operation's timeout means what it says at any size (issue 16 item 4):
 * beyond 2^31 ms (a Node timer's limit) and beyond 2^53 (an exact int64) the
 * transaction stays blocked, as on the real ovsdb-server, instead of being
 * refused or answered at once; a short one times out with ovsdb-server's words.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { bothServers } from '../helpers/ovsdb-servers.js';

const servers = bothServers();

/** Sends one wait that never holds; resolves with the reply text, or undefined when none came within `ms`. */
function waitFor(path: string, timeout: string, ms: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = connect(path);
    let got = '';
    const t = setTimeout(() => {
      sock.destroy();
      resolve(undefined);
    }, ms);
    sock.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.endsWith('}')) {
        clearTimeout(t);
        sock.destroy();
        resolve(got);
      }
    });
    sock.on('connect', () =>
      sock.write(
        `{"id":1,"method":"transact","params":["OVN_Northbound",{"op":"wait","table":"Logical_Switch","where":[["name","==","none"]],` +
          `"columns":["name"],"until":"==","rows":[{"name":"x"}],"timeout":${timeout}}]}`,
      ),
    );
  });
}

test('wait timeouts beyond 2^31 and 2^53 ms block as on ovsdb-server', async () => {
  for (const timeout of ['2147483649', '9007199254740993', '9223372036854775807']) {
    const [real, ovnts] = await Promise.all([
      waitFor(servers.real.sockPath, timeout, 1000),
      waitFor(servers.ovnts.sockPath, timeout, 1000),
    ]);
    assert.equal(real, undefined, `real ovsdb-server, timeout ${timeout}`);
    assert.equal(ovnts, undefined, `ovnts, timeout ${timeout}: ${ovnts}`);
  }
});

test('a wait that runs out of time says so as ovsdb-server does', async () => {
  const details = (reply: string | undefined): string =>
    String((JSON.parse(reply ?? '{}') as { result?: Array<{ details?: string }> }).result?.[0]?.details).replace(/\d+ ms/, 'N ms');
  const [real, ovnts] = await Promise.all([waitFor(servers.real.sockPath, '300', 3000), waitFor(servers.ovnts.sockPath, '300', 3000)]);
  assert.equal(details(ovnts), details(real));
  const [real0, ovnts0] = await Promise.all([waitFor(servers.real.sockPath, '0', 3000), waitFor(servers.ovnts.sockPath, '0', 3000)]);
  assert.equal(details(ovnts0), details(real0));
});
