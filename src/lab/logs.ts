/** Log tails for failure messages: the daemons of a lab run write their logs into its directory. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The last `n` lines of each `*.log` file in `dir` and its subdirectories, each under a `--- path` header. */
export function tailLogs(dir: string, n = 40): string {
  const out: string[] = [];
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.log')) out.push(`--- ${p}`, ...readFileSync(p, 'utf8').trimEnd().split('\n').slice(-n));
    }
  };
  walk(dir);
  return out.join('\n');
}
