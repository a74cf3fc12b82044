/**
 * `ovnts nbctl` / `ovnts sbctl` in process, as functions: the lab programs the
 * Northbound database with the seed's ovn-nbctl commands through the same code
 * the commands run, without a process per command.
 */
import { runCtl, type ToolSpec } from '../dbctl/ctl.js';
import { NBCTL } from '../dbctl/nbctl.js';
import { SBCTL } from '../dbctl/sbctl.js';

/** Runs one command line of a ctl tool; resolves to its output, rejects with its error message. */
export type Ctl = (...args: string[]) => Promise<string>;

function ctlAt(tool: ToolSpec, remote: string): Ctl {
  return async (...args) => {
    let out = '';
    let err = '';
    const code = await runCtl(tool, [`--db=${remote}`, '--timeout=30', ...args], { stdout: (s) => (out += s), stderr: (s) => (err += s) });
    if (code !== 0) throw new Error(err.trim() || `${tool.program} ${args.join(' ')}: exit ${code}`);
    return out;
  };
}

/** ovn-nbctl(8) against the Northbound database at `remote`. */
export function nbctlAt(remote: string): Ctl {
  return ctlAt(NBCTL, remote);
}

/** ovn-sbctl(8) against the Southbound database at `remote`. */
export function sbctlAt(remote: string): Ctl {
  return ctlAt(SBCTL, remote);
}
