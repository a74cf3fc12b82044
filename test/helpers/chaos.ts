/**
 * What the chaos tests check on the seed lab after each event: that the
 * namespaces ping each other again, and that br-int's flow table is back to
 * the one before.
 */
import assert from 'node:assert/strict';
import { LAB_HOSTS, ROUTER_IP, type LabResult } from './ovn-lab.js';
import { dumpFlows, keyDiff, tableKeys } from './flow-compare.js';
import { nsRun } from './netns.js';
import { waitFor } from './proc.js';

/** vm5 reaches the router and c52 (a container nested under another VM, on the same switch). */
export async function labReachable(lab: LabResult): Promise<boolean> {
  const vm5 = lab.hosts.find((h) => h.name === 'vm5')!.netns;
  const c52 = LAB_HOSTS.find((h) => h.name === 'c52')!.ip;
  const [a, b] = await Promise.all([
    nsRun(vm5, 'ping', ['-n', '-c', '1', '-W', '1', ROUTER_IP], { timeoutMs: 5000 }),
    nsRun(vm5, 'ping', ['-n', '-c', '1', '-W', '1', c52], { timeoutMs: 5000 }),
  ]);
  return a.code === 0 && b.code === 0;
}

/** br-int's flows as comparable keys (no cookies or counters). */
export async function flowKeys(lab: LabResult): Promise<string[]> {
  return tableKeys(await dumpFlows(lab.ovs));
}

/** Waits until br-int's flows are `before` again; fails with the difference after `timeoutMs`. */
export async function flowsBack(lab: LabResult, before: readonly string[], what: string, timeoutMs: number): Promise<void> {
  let diff = '';
  await waitFor(
    async () => {
      diff = keyDiff(before, await flowKeys(lab), ['before', 'after']);
      return diff === '';
    },
    { what, timeoutMs },
  ).catch(() => assert.fail(`flows differ after ${what}:\n${diff.slice(0, 4000)}\n${lab.logs(15)}`));
}
