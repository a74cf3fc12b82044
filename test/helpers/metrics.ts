/**
 * Reading a `--metrics` endpoint as Prometheus would: the real curl fetches
 * it, Prometheus's own Python client (python3-prometheus-client's
 * `text_string_to_metric_families`, run by Debian's /usr/bin/python3 whatever
 * python3 comes first on PATH) parses the text, so a malformed
 * exposition fails the test.
 */
import { existsSync, readFileSync } from 'node:fs';
import { runOk, waitFor } from './proc.js';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Scrape {
  /** Metric families by name (counters without `_total`, as the parser names them) and their type. */
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly Sample[];
  /** The sum of the samples named `name` whose labels include `labels`; undefined when there is none. */
  value(name: string, labels?: Readonly<Record<string, string>>): number | undefined;
}

const PARSE = `
import json, math, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({'name': f.name, 'type': f.type,
                'samples': [{'name': s.name, 'labels': s.labels, 'value': s.value if math.isfinite(s.value) else str(s.value)} for s in f.samples]})
print(json.dumps(out))
`;

interface Family {
  name: string;
  type: string;
  samples: { name: string; labels: Record<string, string>; value: number | string }[];
}

/** Fetches `url` with curl (failing on an HTTP error) and parses it with {@link parseMetrics}. */
export async function scrape(url: string): Promise<Scrape> {
  return parseMetrics(await runOk('curl', ['-sS', '--fail', '--max-time', '10', url]));
}

/** Parses Prometheus text with Prometheus's own parser (which throws on malformed text). */
export async function parseMetrics(text: string): Promise<Scrape> {
  const families = JSON.parse(await runOk('/usr/bin/python3', ['-c', PARSE], { input: text })) as Family[];
  const samples = families.flatMap((f) => f.samples.map((s) => ({ name: s.name, labels: s.labels, value: Number(s.value) })));
  return {
    types: new Map(families.map((f) => [f.name, f.type])),
    samples,
    value: (name, labels = {}) => {
      const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
      return hits.length === 0 ? undefined : hits.reduce((a, s) => a + s.value, 0);
    },
  };
}

/** The URL a daemon logged ("serving metrics on URL") in `logFile`, once it has. */
export function metricsUrlFromLog(logFile: string): Promise<string> {
  return waitFor(
    () => {
      if (!existsSync(logFile)) return undefined;
      return /serving metrics on (http:\/\/\S+)/.exec(readFileSync(logFile, 'utf8'))?.[1];
    },
    { what: `"serving metrics on" in ${logFile}` },
  );
}
