/**
 * The import-boundary gate (`npm run deps`, part of `npm run check`) passes on
 * this tree and fails when a layer rule is broken: each case copies the source
 * tree to a scratch folder, adds one forbidden import and runs the same check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const DEPCRUISE = join(ROOT, 'node_modules', '.bin', 'depcruise');

function cruise(dir: string): { status: number | null; out: string } {
  const r = spawnSync(DEPCRUISE, ['src', '--config', '.dependency-cruiser.cjs'], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** A scratch copy of what the check reads, with `files` added (path → text). */
function withFiles(files: Readonly<Record<string, string>>, t: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-gate-'));
  try {
    cpSync(join(ROOT, 'src'), join(dir, 'src'), { recursive: true });
    for (const f of ['.dependency-cruiser.cjs', 'tsconfig.json', 'package.json']) cpSync(join(ROOT, f), join(dir, f));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, path), text);
    t(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the boundary check passes on the tree as it is', () => {
  const r = cruise(ROOT);
  assert.equal(r.status, 0, r.out);
});

const CASES: readonly { name: string; rule: string; files: Record<string, string> }[] = [
  {
    name: 'lib importing ovsdb',
    rule: 'lib-imports-only-lib',
    files: { 'src/lib/gate-probe.ts': "import { OvsdbClient } from '../ovsdb/client.js';\nexport const probe = OvsdbClient;\n" },
  },
  {
    name: 'openflow importing a daemon',
    rule: 'protocols-import-only-lib',
    files: { 'src/openflow/gate-probe.ts': "import { stage } from '../northd/stages.js';\nexport const probe = stage;\n" },
  },
  {
    name: 'northd importing the controller',
    rule: 'northd-is-independent',
    files: { 'src/northd/gate-probe.ts': "export type { Controller } from '../controller/controller.js';\n" },
  },
  {
    name: 'a daemon importing the CLI',
    rule: 'lab-is-independent',
    files: { 'src/lab/gate-probe.ts': "export { parseCommandLine } from '../cli/command-line.js';\n" },
  },
  {
    // The ui may run the trace engine (ALLOWED in the config), not northd.
    name: 'the ui importing northd',
    rule: 'ui-is-independent',
    files: { 'src/ui/gate-probe.ts': "export { stage } from '../northd/stages.js';\n" },
  },
  {
    name: 'a type-only cycle',
    rule: 'no-cycles',
    files: {
      'src/lib/gate-probe-a.ts': "import type { B } from './gate-probe-b.js';\nexport interface A { b: B }\n",
      'src/lib/gate-probe-b.ts': "import type { A } from './gate-probe-a.js';\nexport interface B { a: A }\n",
    },
  },
];

for (const c of CASES) {
  test(`the boundary check fails on ${c.name}`, () => {
    withFiles(c.files, (dir) => {
      const r = cruise(dir);
      assert.notEqual(r.status, 0, r.out);
      assert.match(r.out, new RegExp(`error ${c.rule}: src/[a-z]+/gate-probe`));
    });
  });
}
