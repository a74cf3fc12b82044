/**
 * bench:ipam — `ovnts ipam` against the real neutron-server (Zed, ML2/OVN,
 * sqlite, RECIPES.md §5), each on its own NB/SB and northd, one after the
 * other so they do not share the CPU. Straight HTTP (Node's fetch, keep-alive),
 * no CLI:
 *   - network + subnet create (one POST each), mean over BENCH_IPAM_NETS pairs;
 *   - port create with 1 client and with BENCH_IPAM_CLIENTS (8) clients,
 *     BENCH_IPAM_PORTS (200) ports each: p50/p99 latency and ports/s;
 *   - GET /v2.0/ports once the network holds BENCH_IPAM_LIST ports (10000;
 *     BENCH_IPAM_LIST_REAL caps the real server's, whose population takes
 *     minutes at its rate — the printed sizes say what was measured);
 *   - RSS (VmRSS and peak VmHWM, summed over the real server's processes).
 * Prints both sides and the ovnts/real ratios against the aims.
 */
import { readFileSync } from 'node:fs';
import { startRealNeutron, startOvntsIpam, type NeutronHandle } from '../test/helpers/neutron-server.js';
import { cleanupAll } from '../test/helpers/proc.js';

const env = (name: string, dflt: number): number => Number(process.env[name] ?? dflt);
const NETS = env('BENCH_IPAM_NETS', 5);
const PORTS = env('BENCH_IPAM_PORTS', 200);
const CLIENTS = env('BENCH_IPAM_CLIENTS', 8);
const LIST = env('BENCH_IPAM_LIST', 10000);
const LIST_REAL = env('BENCH_IPAM_LIST_REAL', 2000);

interface Result {
  netSubnetMs: number;
  single: Latencies;
  concurrent: Latencies;
  listPorts: number;
  listMs: number;
  rssMb: number;
  hwmMb: number;
  retried500: number;
}

interface Latencies {
  p50: number;
  p99: number;
  /** Successful creates per second. */
  perSec: number;
  /** Creates that still failed after the retries (the real server's sqlite). */
  failed: number;
}

class Client {
  retried500 = 0;
  constructor(private readonly server: NeutronHandle) {}

  /** One request; a 500 from the real server (sqlite lock contention, rolled back) is retried and counted. */
  async call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    for (let attempt = 1; ; attempt++) {
      const init: RequestInit = {
        method,
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-Auth-Token': 'notused' },
      };
      if (body !== undefined) init.body = JSON.stringify(body);
      const res = await fetch(`${this.server.url}${path}`, init);
      const text = await res.text();
      if (res.status >= 200 && res.status < 300) return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
      // Under concurrent writers the real server's sqlite is locked often; every
      // retry is counted and printed, and its latency stays in the measurement.
      if (res.status === 500 && this.server.kind === 'real' && attempt < 30) {
        this.retried500++;
        await new Promise((r) => setTimeout(r, 50 * attempt));
        continue;
      }
      throw new Error(`${this.server.kind}: ${method} ${path} -> ${res.status} ${text.slice(0, 300)}`);
    }
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** `total` port creates from `clients` concurrent clients. */
async function createPorts(c: Client, networkId: string, total: number, clients: number): Promise<Latencies> {
  const lat: number[] = [];
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total) {
        next++;
        const t = performance.now();
        // One request's latency includes the real server's retries after a 500.
        try {
          await c.call('POST', '/v2.0/ports', { port: { network_id: networkId, name: `bench-${next}` } });
          lat.push(performance.now() - t);
        } catch (e) {
          failed++;
          console.error(e instanceof Error ? e.message.slice(0, 200) : e);
        }
      }
    }),
  );
  const wall = performance.now() - t0;
  lat.sort((a, b) => a - b);
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), perSec: (lat.length / wall) * 1000, failed };
}

function memory(pids: readonly number[]): { rss: number; hwm: number } {
  let rss = 0;
  let hwm = 0;
  for (const pid of pids) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      rss += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      hwm += Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      /* exited */
    }
  }
  return { rss: rss / 1024, hwm: hwm / 1024 };
}

async function measure(server: NeutronHandle, listSize: number): Promise<Result> {
  const c = new Client(server);
  const t0 = performance.now();
  for (let i = 0; i < NETS; i++) {
    const net = (await c.call('POST', '/v2.0/networks', { network: { name: `bench-net-${i}` } })).network as { id: string };
    await c.call('POST', '/v2.0/subnets', {
      subnet: { network_id: net.id, ip_version: 4, cidr: `10.${100 + i}.0.0/24`, name: `bench-sub-${i}` },
    });
  }
  const netSubnetMs = (performance.now() - t0) / NETS;
  // Room for every port of the run (and the list population): a /17.
  const net = (await c.call('POST', '/v2.0/networks', { network: { name: 'bench-ports' } })).network as { id: string };
  await c.call('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '10.64.0.0/17', name: 'bench-ports' } });
  const single = await createPorts(c, net.id, PORTS, 1);
  const concurrent = await createPorts(c, net.id, PORTS, CLIENTS);
  const have = 2 * PORTS;
  if (listSize > have) await createPorts(c, net.id, listSize - have, CLIENTS);
  let listed = 0;
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const body = await c.call('GET', '/v2.0/ports');
    times.push(performance.now() - t);
    listed = (body.ports as unknown[]).length;
  }
  times.sort((a, b) => a - b);
  const mem = memory(await server.pids());
  return {
    netSubnetMs,
    single,
    concurrent,
    listPorts: listed,
    listMs: times[1] ?? NaN,
    rssMb: mem.rss,
    hwmMb: mem.hwm,
    retried500: c.retried500,
  };
}

async function run(start: () => Promise<NeutronHandle>, listSize: number): Promise<Result> {
  const server = await start();
  try {
    return await measure(server, listSize);
  } finally {
    await server.stop();
  }
}

function table(real: Result, ovnts: Result): void {
  const rows: [string, number, number, string, string][] = [
    ['network + subnet create (ms, mean)', real.netSubnetMs, ovnts.netSubnetMs, 'x', ''],
    ['port create, 1 client: p50 (ms)', real.single.p50, ovnts.single.p50, 'x', '<= 0.05'],
    ['port create, 1 client: p99 (ms)', real.single.p99, ovnts.single.p99, 'x', ''],
    ['port create, 1 client: ports/s', real.single.perSec, ovnts.single.perSec, 'x', '>= 20'],
    [`port create, ${CLIENTS} clients: p50 (ms)`, real.concurrent.p50, ovnts.concurrent.p50, 'x', ''],
    [`port create, ${CLIENTS} clients: p99 (ms)`, real.concurrent.p99, ovnts.concurrent.p99, 'x', ''],
    [`port create, ${CLIENTS} clients: ports/s`, real.concurrent.perSec, ovnts.concurrent.perSec, 'x', '>= 20'],
    [`port list (ms; real ${real.listPorts}, ovnts ${ovnts.listPorts} ports)`, real.listMs, ovnts.listMs, 'x', ''],
    ['port list per 1000 ports (ms)', (real.listMs / real.listPorts) * 1000, (ovnts.listMs / ovnts.listPorts) * 1000, 'x', ''],
    ['RSS after the run (MB)', real.rssMb, ovnts.rssMb, 'x', '<= 0.2'],
    ['peak RSS (MB)', real.hwmMb, ovnts.hwmMb, 'x', '<= 0.2'],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`${'measure'.padEnd(w)}  ${'neutron'.padStart(10)}  ${'ovnts'.padStart(10)}  ${'ovnts/real'.padStart(10)}  aim`);
  for (const [name, r, o, , aim] of rows) {
    console.log(
      `${name.padEnd(w)}  ${r.toFixed(1).padStart(10)}  ${o.toFixed(1).padStart(10)}  ${(o / r).toFixed(3).padStart(10)}  ${aim}`,
    );
  }
  console.log(
    `(real neutron-server: ${real.retried500} requests retried after a 500 from sqlite lock contention, ${real.single.failed + real.concurrent.failed} creates failed for good; ovnts: ${ovnts.single.failed + ovnts.concurrent.failed} failed; the real RSS sums its 5 processes)`,
  );
}

async function main(): Promise<void> {
  console.log(`nets ${NETS}, ports ${PORTS} per phase, clients ${CLIENTS}, list: ovnts ${LIST}, real ${Math.min(LIST, LIST_REAL)}`);
  // Each side is printed as soon as it is measured: the real one takes minutes.
  const real = await run(startRealNeutron, Math.min(LIST, LIST_REAL));
  console.log(`neutron-server: ${JSON.stringify(real)}`);
  const ovnts = await run(startOvntsIpam, LIST);
  console.log(`ovnts ipam: ${JSON.stringify(ovnts)}`);
  table(real, ovnts);
}

main()
  .catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());
