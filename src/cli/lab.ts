/**
 * `ovnts lab`: the seed lab on ovnts, end to end — by default on its own
 * `ovnts up` — printing each DHCP and ping step as PASS or FAIL; exit status 1
 * when any step fails. `--keep` leaves it running, `--clean` removes kept (or
 * crashed) runs; Ctrl-C or SIGTERM tears down what was built so far.
 */
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cleanLabs, createLab } from '../lab/lab.js';
import { parseCommandLine } from './command-line.js';

const PROG = 'ovnts lab';

interface Options {
  baseDir: string;
  nb: string | undefined;
  sb: string | undefined;
  pings: string[];
  dhcpTimeoutS: number;
  keep: boolean;
  clean: boolean;
}

const USAGE = `usage: ovnts lab [OPTIONS]
Builds the seed lab (router tenant1, switch dmz, VM port dmz-vm5, container
ports dmz-c51/dmz-c52 with VLAN tags 51/52) on a private Open vSwitch in
network namespaces, gets every namespace a lease by DHCP and pings the router
and the others. Prints one PASS/FAIL line per step; exits 1 if any fails.
  --nb=REMOTE --sb=REMOTE   use these running databases (and their northd) instead
                            of starting ovnts up; the lab then starts ovnts controller
  --ping=ADDRESS            also ping ADDRESS from every namespace (repeatable)
  --dhcp-timeout=SECONDS    how long each namespace asks for a lease (default 30)
  --keep                    leave the lab running for inspection
  --clean                   remove labs left by --keep (or by a killed run) and exit
  --dir=DIR                 where runs keep their files (default: $OVNTS_LAB_DIR or ${join(tmpdir(), 'ovnts-lab')})
`;

function parseArgs(args: readonly string[]): Options | string {
  const o: Options = {
    baseDir: process.env['OVNTS_LAB_DIR'] ?? join(tmpdir(), 'ovnts-lab'),
    nb: undefined,
    sb: undefined,
    pings: [],
    dhcpTimeoutS: 30,
    keep: false,
    clean: false,
  };
  for (const a of args) {
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    const value = eq < 0 ? undefined : a.slice(eq + 1);
    const need = (): string => {
      if (value === undefined || value === '') throw new Error(`option '${name}' requires an argument`);
      return value;
    };
    switch (name) {
      case '--nb':
        o.nb = need();
        break;
      case '--sb':
        o.sb = need();
        break;
      case '--ping': {
        const v = need();
        if (!/^\d+\.\d+\.\d+\.\d+$/.test(v)) throw new Error(`${v}: not an IPv4 address`);
        o.pings.push(v);
        break;
      }
      case '--dhcp-timeout': {
        const n = Number(need());
        if (!Number.isInteger(n) || n < 1) throw new Error(`--dhcp-timeout: ${value ?? ''} is not a positive number of seconds`);
        o.dhcpTimeoutS = n;
        break;
      }
      case '--keep':
        o.keep = true;
        break;
      case '--clean':
        o.clean = true;
        break;
      case '--dir':
        o.baseDir = resolve(need());
        break;
      case '-h':
      case '--help':
        return USAGE;
      default:
        throw new Error(`unrecognized option '${a}'`);
    }
  }
  if ((o.nb === undefined) !== (o.sb === undefined)) throw new Error('--nb and --sb go together');
  return o;
}

export async function lab(args: string[]): Promise<number> {
  const o = parseCommandLine(PROG, args, parseArgs);
  if (typeof o === 'number') return o;
  const print = (line: string): void => void process.stdout.write(`${line}\n`);
  if (o.clean) {
    const ids = await cleanLabs(o.baseDir, print);
    print(ids.length === 0 ? 'no lab to remove' : `removed ${ids.map((i) => `lab ${i}`).join(', ')}`);
    return 0;
  }
  const run = createLab({
    baseDir: o.baseDir,
    // This same program, for `ovnts up` / `ovnts controller`.
    ovnts: [process.execPath, ...process.execArgv, process.argv[1] as string],
    nbRemote: o.nb,
    sbRemote: o.sb,
    extraPings: o.pings,
    dhcpTimeoutS: o.dhcpTimeoutS,
    keep: o.keep,
    print,
  });
  // Ctrl-C / SIGTERM: tear down what exists so far, then leave with the signal's status.
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(sig, () => {
      print(`lab: ${sig}: tearing down`);
      void run.stop().finally(() => process.exit(code));
    });
  }
  let failed: number;
  try {
    failed = await run.run();
  } catch (e) {
    process.stderr.write(`${PROG}: ${(e as Error).message}\n`);
    failed = -1;
  }
  await run.stop();
  print(failed === 0 ? 'seed lab: all steps passed' : failed < 0 ? 'seed lab: setup failed' : `seed lab: ${failed} step(s) failed`);
  return failed === 0 ? 0 : 1;
}
