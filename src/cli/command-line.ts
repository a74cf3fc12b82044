/**
 * How every ovnts command reports its command line: the parser returns the
 * options, or the usage text for `--help` (printed on stdout, status 0), or
 * throws on a refused option (`PROG: message` on stderr, status 1).
 */
export function parseCommandLine<T extends object>(
  prog: string,
  args: readonly string[],
  parse: (args: readonly string[]) => T | string,
): T | number {
  let o: T | string;
  try {
    o = parse(args);
  } catch (e) {
    process.stderr.write(`${prog}: ${(e as Error).message}\n`);
    return 1;
  }
  if (typeof o === 'string') {
    process.stdout.write(o);
    return 0;
  }
  return o;
}
