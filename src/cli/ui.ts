/**
 * `ovnts ui`: the live topology and trace page, served over HTTP from the NB
 * and SB. `[--listen=ADDR:PORT] [--ovnnb-db=DATABASE] [--ovnsb-db=DATABASE]`
 * plus the daemon options (`--pidfile`, `--log-file`, `--detach`, `-v`, and
 * `--unixctl`, where `ovn-appctl -t SOCKET exit` stops it).
 */
import { existsSync } from 'node:fs';
import { createUiServer } from '../ui/server.js';
import { daemonOptions, defaultDaemonOptions, ovnDaemonDefaults, runDaemon, startWithin, type DaemonOptions } from './daemon.js';
import type { CommandLine } from './command-line.js';
import { ovnnbDbOption, ovnsbDbOption } from './db-options.js';
import { nonEmpty } from './options.js';
import { packageVersion } from './version.js';
import { parseListen } from './ipam.js';

const PROG = 'ovnts-ui';

interface UiOptions extends DaemonOptions {
  host: string;
  port: number;
  nb: string;
  sb: string;
}

export const UI_COMMAND_LINE: CommandLine<UiOptions> = {
  program: PROG,
  summary: 'the live topology and trace page (ovnts)',
  usage: ['ovnts ui [OPTIONS]'],
  description: 'Serves a page that draws the OVN topology of the NB and SB as it changes, and traces packets through it.',
  options: [
    {
      name: 'listen',
      arg: 'required',
      metavar: 'ADDR:PORT',
      help: 'serve HTTP here',
      default: '127.0.0.1:8080',
      set: (o, v) => void Object.assign(o, parseListen(nonEmpty('listen', v))),
    },
    ovnnbDbOption<UiOptions>(),
    ovnsbDbOption<UiOptions>(),
    ...daemonOptions<UiOptions>(ovnDaemonDefaults(PROG), 'none (ovn-appctl -t SOCKET exit stops the server)'),
  ],
  defaults: () => ({
    ...defaultDaemonOptions(),
    host: '127.0.0.1',
    port: 8080,
    nb: process.env['OVN_NB_DB'] ?? 'unix:/var/run/ovn/ovnnb_db.sock',
    sb: process.env['OVN_SB_DB'] ?? 'unix:/var/run/ovn/ovnsb_db.sock',
  }),
  finish: (o, args) => {
    if (args[0] !== undefined) throw new Error(`non-option argument '${args[0]}'; use --help for usage`);
    return o;
  },
};

/** A `unix:` remote whose socket is not there: ovn-nbctl's words for it. */
function missingSocket(remotes: string): string | undefined {
  const all = remotes.split(',');
  const gone = all.filter((r) => r.startsWith('unix:') && !existsSync(r.slice(5)));
  return gone.length === all.length && gone[0] !== undefined
    ? `${gone[0]}: database connection failed (No such file or directory)`
    : undefined;
}

export function ui(args: string[]): Promise<number> {
  return runDaemon(UI_COMMAND_LINE, 'ui', args, (o) => {
    let port = o.port;
    return {
      modules: ['ui', 'unixctl'],
      unixctl: o.unixctl,
      onSignal: undefined,
      // The page's metrics are the process's (memory, event loop, handles): the page has no counters of its own.
      parts: ({ log, ctl }) => {
        ctl?.register('version', '', 0, 0, () => `ovnts ui (ovnts) ${packageVersion()}\n`);
        const server = createUiServer({ host: o.host, port: o.port, nbRemote: o.nb, sbRemote: o.sb, log });
        const start = async (): Promise<void> => {
          const missing = missingSocket(o.nb) ?? missingSocket(o.sb);
          if (missing !== undefined) throw new Error(missing);
          try {
            await startWithin(server.start(), `cannot connect to the databases (${o.nb}, ${o.sb})`, 5000);
          } catch (e) {
            if ((e as { code?: string }).code === 'EADDRINUSE') throw new Error(`--listen=${o.host}:${o.port}: address already in use`);
            throw e;
          }
          port = server.port;
        };
        return [{ start, stop: () => server.stop() }];
      },
      started: () => `ovnts ui serving http://${o.host}:${port}/ (NB ${o.nb}, SB ${o.sb})`,
    };
  });
}
