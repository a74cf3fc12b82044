/**
 * `ovnts lab`: the seed lab on ovnts, end to end — by default on its own
 * `ovnts up` — printing each DHCP and ping step as PASS or FAIL; exit status 1
 * when any step fails. `--keep` leaves it running, `--clean` removes kept (or
 * crashed) runs; Ctrl-C or SIGTERM tears down what was built so far.
 */
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cleanLabs, createLab } from '../lab/lab.js';
import { parseCommandLine, type CommandLine } from './command-line.js';
import { nonEmpty } from './options.js';

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

export const LAB_COMMAND_LINE: CommandLine<Options> = {
  program: PROG,
  summary: 'the seed lab end to end on ovnts up, step by step PASS/FAIL',
  usage: ['ovnts lab [OPTIONS]'],
  description: `Builds the seed lab (router tenant1, switch dmz, VM port dmz-vm5, container
ports dmz-c51/dmz-c52 with VLAN tags 51/52) on a private Open vSwitch in
network namespaces, gets every namespace a lease by DHCP and pings the router
and the others. Prints one PASS/FAIL line per step; exits 1 if any fails.`,
  options: [
    {
      name: 'nb',
      arg: 'required',
      metavar: 'REMOTE',
      help: 'use this running NB (with --sb, and their northd) instead of\nstarting ovnts up; the lab then starts ovnts controller',
      set: (o, v) => void (o.nb = nonEmpty('nb', v)),
    },
    {
      name: 'sb',
      arg: 'required',
      metavar: 'REMOTE',
      help: 'the running SB that goes with --nb',
      set: (o, v) => void (o.sb = nonEmpty('sb', v)),
    },
    {
      name: 'ping',
      arg: 'required',
      metavar: 'ADDRESS',
      help: 'also ping ADDRESS from every namespace (repeatable)',
      set: (o, v) => {
        const a = nonEmpty('ping', v);
        if (!/^\d+\.\d+\.\d+\.\d+$/.test(a)) throw new Error(`${a}: not an IPv4 address`);
        o.pings.push(a);
      },
    },
    {
      name: 'dhcp-timeout',
      arg: 'required',
      metavar: 'SECONDS',
      help: 'how long each namespace asks for a lease',
      default: '30',
      set: (o, v) => {
        const n = Number(nonEmpty('dhcp-timeout', v));
        if (!Number.isInteger(n) || n < 1) throw new Error(`--dhcp-timeout: ${v ?? ''} is not a positive number of seconds`);
        o.dhcpTimeoutS = n;
      },
    },
    { name: 'keep', help: 'leave the lab running for inspection', set: (o) => void (o.keep = true) },
    { name: 'clean', help: 'remove labs left by --keep (or by a killed run) and exit', set: (o) => void (o.clean = true) },
    {
      name: 'dir',
      arg: 'required',
      metavar: 'DIR',
      help: 'where runs keep their files',
      default: `$OVNTS_LAB_DIR or ${join(tmpdir(), 'ovnts-lab')}`,
      set: (o, v) => void (o.baseDir = resolve(nonEmpty('dir', v))),
    },
  ],
  defaults: () => ({
    baseDir: process.env['OVNTS_LAB_DIR'] ?? join(tmpdir(), 'ovnts-lab'),
    nb: undefined,
    sb: undefined,
    pings: [],
    dhcpTimeoutS: 30,
    keep: false,
    clean: false,
  }),
  finish: (o, args) => {
    if (args[0] !== undefined) throw new Error(`non-option argument '${args[0]}'; use --help for usage`);
    if ((o.nb === undefined) !== (o.sb === undefined)) throw new Error('--nb and --sb go together');
    return o;
  },
};

export async function lab(args: string[]): Promise<number> {
  const line = parseCommandLine(LAB_COMMAND_LINE, args);
  if (typeof line === 'number') return line;
  const o = line.options;
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
