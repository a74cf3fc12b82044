/** The package's version, as every ovnts command's `--version` prints it. */
import { readFileSync } from 'node:fs';

/** package.json's version: this file is dist/src/cli/version.js (or src/cli/version.ts) in the checkout. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

/** `PROGRAM (ovnts) VERSION`, the first line of the OVS tools' `--version`. */
export function versionText(program: string): string {
  return `${program} (ovnts) ${packageVersion()}\n`;
}
