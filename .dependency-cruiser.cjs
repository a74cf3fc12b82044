/**
 * The import-boundary half of `npm run check`: the layer rules of the house
 * style (shared STYLE.md, "Layout shows the architecture") as dependency-cruiser
 * rules. Imports flow one way: lib ← ovsdb, openflow ← daemons and CLIs.
 */
const DAEMONS = ['northd', 'controller', 'ipam', 'container', 'cni', 'ui', 'trace', 'lab'];
/**
 * Which daemons one may import besides itself: the page of `ovnts ui` draws
 * `ovnts trace`'s answer, and the trace engine is pure (a SB snapshot in, a
 * tree out) — running it in the ui process is how the page shows the same
 * stages and verdict as the command, without a second tracer.
 */
const ALLOWED = { ui: ['trace'] };
const others = (self) => `^src/(${DAEMONS.filter((d) => d !== self && !(ALLOWED[self] ?? []).includes(d)).join('|')}|cli)/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'No import cycles, type-only ones included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'lib-imports-only-lib',
      comment: 'src/lib is pure shared code: it imports nothing of ours outside src/lib.',
      severity: 'error',
      from: { path: '^src/lib/' },
      to: { path: '^src/', pathNot: '^src/lib/' },
    },
    {
      name: 'protocols-import-only-lib',
      comment: 'src/ovsdb and src/openflow are protocol libraries: besides themselves they import only src/lib.',
      severity: 'error',
      from: { path: '^src/(ovsdb|openflow)/' },
      to: { path: '^src/', pathNot: ['^src/lib/', '^src/$1/'] },
    },
    {
      name: 'dbctl-imports-only-protocols',
      comment: 'The db-ctl engine (ovn-nbctl/ovn-sbctl commands) sits below the CLI: it uses ovsdb and lib only.',
      severity: 'error',
      from: { path: '^src/dbctl/' },
      to: { path: '^src/', pathNot: ['^src/(lib|ovsdb|dbctl)/'] },
    },
    {
      name: 'host-imports-only-protocols',
      comment: 'src/host is host plumbing (netns, veth, OVS instances) shared by the container tools and the lab.',
      severity: 'error',
      from: { path: '^src/host/' },
      to: { path: '^src/', pathNot: ['^src/(lib|ovsdb|host)/'] },
    },
    ...DAEMONS.map((d) => ({
      name: `${d}-is-independent`,
      comment: `src/${d} never imports another daemon or the CLI.`,
      severity: 'error',
      from: { path: `^src/${d}/` },
      to: { path: others(d) },
    })),
    {
      name: 'integrations-talk-through-ovsdb',
      comment: 'ipam, container and cni reach the rest only through OVSDB and HTTP: they import ovsdb, lib and host (and themselves).',
      severity: 'error',
      from: { path: '^src/(ipam|container|cni)/' },
      to: { path: '^src/', pathNot: ['^src/(lib|ovsdb|host)/', '^src/$1/'] },
    },
    {
      name: 'ui-talks-through-ovsdb',
      comment: 'The ui reads the NB and SB through OVSDB and serves HTTP; besides ovsdb, lib and host it runs the pure trace engine (see ALLOWED).',
      severity: 'error',
      from: { path: '^src/ui/' },
      to: { path: '^src/', pathNot: ['^src/(lib|ovsdb|host|trace|ui)/'] },
    },
    {
      name: 'builders-read-the-view',
      comment: "northd's flow builders read the NB through nb-view.ts, never the concrete snapshot.",
      severity: 'error',
      from: { path: '^src/northd/build/' },
      to: { path: '^src/northd/nb-snapshot\\.ts$' },
    },
    {
      name: 'src-does-not-import-tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve is a typo or a missing dependency.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
  },
};
