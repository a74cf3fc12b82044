/**
 * The request ovn-container's thin client sends the agent (src/cni/client/
 * ovn-container.c builds it): arguments as given, only the variables the
 * tool reads, and a malformed body refused rather than guessed at.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeToolRequest } from '../../src/cli/ovn-container-agent.js';

/** The body as the C client writes it: each word NUL-terminated. */
const body = (...words: string[]): Buffer => Buffer.from(words.map((w) => `${w}\0`).join(''));

test('arguments come through as given: empty ones, spaces, = and non-ASCII included', () => {
  const args = ['endpoint-create', '', 'a b', 'x=y', 'réseau'];
  assert.deepEqual(decodeToolRequest(args.length, body(...args, 'OVS_RUNDIR=/run/x')), { args, env: { OVS_RUNDIR: '/run/x' } });
  assert.deepEqual(decodeToolRequest(0, Buffer.alloc(0)), { args: [], env: {} });
});

test('only the variables the tool reads are taken; a value may hold = and be empty', () => {
  const r = decodeToolRequest(
    1,
    body(
      'net-list',
      'OS_PASSWORD=a=b',
      'OS_URL=',
      'DOCKER_HOST=unix:///d.sock',
      'CONTAINERS_CONF=/c',
      'PATH=/evil',
      'LD_PRELOAD=/x.so',
      'HOME=/root',
    ),
  );
  assert.deepEqual(r?.env, { OS_PASSWORD: 'a=b', OS_URL: '', DOCKER_HOST: 'unix:///d.sock', CONTAINERS_CONF: '/c' });
});

test('a body that does not hold the announced arguments, or is cut short, is refused', () => {
  assert.equal(decodeToolRequest(3, body('a', 'b')), undefined);
  assert.equal(decodeToolRequest(1, Buffer.from('net-list')), undefined, 'no final NUL');
  assert.equal(decodeToolRequest(Number.NaN, body('a')), undefined);
  assert.equal(decodeToolRequest(-1, body('a')), undefined);
});
