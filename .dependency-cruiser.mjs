/**
 * @module .dependency-cruiser
 * Import direction of src/ (STYLE.md §1, docs/architecture.md), checked by `npm run lint:imports`,
 * which `npm test` runs right after the typecheck. Every rule is an error: a violation fails the run.
 *
 *   api      → services, model, log; config types only
 *   services → render, model, config, log; system through its interfaces: type-only imports of any
 *              system module, value imports of the utilities in SYSTEM_UTILITIES only
 *   render   → model, package-root.ts, the init seam's interface (system/init/types.ts: the unit
 *              specs it renders) (and node builtins, npm packages)
 *   system   → model, log; config types only
 *   config   → nothing outward (model, log at most)
 *   jobs     → services, model, config, log; system as services reach it (type-only imports, value
 *              imports of SYSTEM_UTILITIES only); imported by main.ts alone. jobs/scheduler.ts is the
 *              only importer of node-cron
 *   model    → nothing of ours outside model/
 *   main.ts, cli.ts, dev/ → anything; they alone value-import the concrete system adapters and
 *              api/app.ts (system/ itself may, as init/detect.ts holds the adapter record)
 *   no cycles, type-only ones included
 *
 * Unit tests (`src/**\/*.test.ts`) are exempt from the direction rules: a test assembles real
 * collaborators from any layer (render/init-units.test.ts builds its unit specs with the services'
 * HaproxyDaemons). What does hold for them: outside system/ they use test/fakes, never a concrete
 * system adapter or api/app.ts; and no production file imports a test or anything under test/.
 *
 * A "type-only" import is `import type …`, `export type … from` or an import whose every specifier
 * is `type X`; it vanishes from the bundle, so it is how an outer layer names an interface.
 * Must not: cruise test/ or bench/ (only src/ is layered).
 */

/** Concrete system code: constructed by the composition root and handed down as an interface. */
const CONCRETE = [
  '^src/system/init/(systemd|sysvinit|upstart|direct|detect)\\.ts$',
  // ExecaRunner: the interface ProcessRunner is in the same file, so only a value import counts.
  '^src/system/exec\\.ts$',
  // LinuxHostStats; the HostStats interface lives beside it.
  '^src/system/host-stats\\.ts$',
  // UdpDatagramSender (the heartbeat's sockets); the DatagramSender interface lives beside it.
  '^src/system/udp-datagrams\\.ts$',
  '^src/api/app\\.ts$',
];

/** system/ modules a service may value-import: helpers without a seam of their own. */
const SYSTEM_UTILITIES = [
  '^src/system/files\\.ts$',
  '^src/system/paths\\.ts$',
  '^src/system/processes\\.ts$',
  // reads a namespace's addresses through the ProcessRunner it is handed (`ip -j addr show`)
  '^src/system/net/addresses\\.ts$',
  // reads the IPVS table of a namespace through the ProcessRunner it is handed (`ipvsadm -Ln`)
  '^src/system/ipvs\\.ts$',
  '^src/system/tls\\.ts$',
  // pid files and signals, shared by the direct adapter and the services; no init-kind logic.
  '^src/system/init/process-signals\\.ts$',
  // the one `ip netns exec` prefix, for the daemons' unit commands
  '^src/system/netns-exec\\.ts$',
  // the init seam's interface: unit specs and the reload protocol constants
  '^src/system/init/types\\.ts$',
  // one command on a haproxy stats socket (node:net, a deadline): the state saved before a reload
  '^src/system/haproxy-socket\\.ts$',
  // copy-truncate rotation and removal of the daemons' console logs (DaemonLogs, the rotation job)
  '^src/system/log-rotation\\.ts$',
];

const TEST = '\\.test\\.ts$';
const LOG = '^src/log\\.ts$';
const VALUE = { dependencyTypesNot: ['type-only'] };

/** A production module of one folder under src/. */
const layer = (folder) => ({ path: `^src/${folder}/`, pathNot: TEST });

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules must not import each other in a cycle (type-only imports count too).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'model-is-pure',
      severity: 'error',
      comment: 'model/ imports nothing of ours outside model/.',
      from: layer('model'),
      to: { path: '^src/', pathNot: '^src/model/' },
    },
    {
      name: 'render-only-model',
      severity: 'error',
      comment: 'render/ is pure: it imports model/, package-root.ts and the init seam\'s interface (system/init/types.ts) only (no other system module, services, api, config, log).',
      from: layer('render'),
      to: { path: '^src/', pathNot: ['^src/(render|model)/', '^src/package-root\\.ts$', '^src/system/init/types\\.ts$'] },
    },
    {
      name: 'system-not-outward',
      severity: 'error',
      comment: 'system/ imports model/, log.ts and config types only; never render/, services/, api/, dev/ or the entry points.',
      from: layer('system'),
      to: { path: '^src/', pathNot: ['^src/(system|model|config)/', LOG] },
    },
    {
      name: 'system-config-types-only',
      severity: 'error',
      comment: 'system/ may name config types (import type), not import config code.',
      from: layer('system'),
      to: { path: '^src/config/', ...VALUE },
    },
    {
      name: 'api-not-outward',
      severity: 'error',
      comment: 'api/ imports services/, model/, log.ts and config types only; never system/ or render/.',
      from: layer('api'),
      to: { path: '^src/', pathNot: ['^src/(api|services|model|config)/', LOG] },
    },
    {
      name: 'api-config-types-only',
      severity: 'error',
      comment: 'api/ may name config types (import type), not import config code.',
      from: layer('api'),
      to: { path: '^src/config/', ...VALUE },
    },
    {
      name: 'services-not-outward',
      severity: 'error',
      comment: 'services/ imports render/, model/, config/, log.ts and system/ (through interfaces); never api/, dev/ or the entry points.',
      from: layer('services'),
      to: { path: '^src/', pathNot: ['^src/(services|render|model|config|system)/', LOG] },
    },
    {
      name: 'services-system-via-interfaces',
      severity: 'error',
      comment:
        'services/ reaches system/ through interfaces: import type from any system module; value imports only of ' +
        'files, paths, processes, tls, netns-exec, haproxy-socket, log-rotation, net/addresses, ipvs, init/types and init/process-signals. (Concrete adapters: see only-roots-construct.)',
      from: layer('services'),
      to: { path: '^src/system/', pathNot: [...SYSTEM_UTILITIES, ...CONCRETE], ...VALUE },
    },
    {
      name: 'jobs-not-outward',
      severity: 'error',
      comment: 'jobs/ imports services/, model/, config/, log.ts and system/ (through interfaces, as services do); never api/, render/, dev/ or the entry points.',
      from: layer('jobs'),
      to: { path: '^src/', pathNot: ['^src/(jobs|services|model|config|system)/', LOG] },
    },
    {
      name: 'jobs-system-via-interfaces',
      severity: 'error',
      comment: 'jobs/ reaches system/ as services/ do: import type from any system module; value imports only of the SYSTEM_UTILITIES.',
      from: layer('jobs'),
      to: { path: '^src/system/', pathNot: [...SYSTEM_UTILITIES, ...CONCRETE], ...VALUE },
    },
    {
      name: 'jobs-only-from-main',
      severity: 'error',
      comment: 'The scheduled jobs are started and stopped by the composition root; no layer imports them (tests may).',
      from: { path: '^src/', pathNot: ['^src/jobs/', '^src/main\\.ts$', TEST] },
      to: { path: '^src/jobs/' },
    },
    {
      name: 'node-cron-only-in-scheduler',
      severity: 'error',
      comment: 'jobs/scheduler.ts is the one module that imports node-cron: every job is a plain function, tested without cron.',
      from: { path: '^src/', pathNot: '^src/jobs/scheduler\\.ts$' },
      to: { path: 'node_modules/node-cron/' },
    },
    {
      name: 'config-not-outward',
      severity: 'error',
      comment: 'config/ is read by every layer, so it imports none of them (model/ and log.ts at most).',
      from: layer('config'),
      to: { path: '^src/', pathNot: ['^src/(config|model)/', LOG] },
    },
    {
      name: 'only-roots-construct',
      severity: 'error',
      comment:
        'Only main.ts, cli.ts and dev/ import the concrete system adapters (init/{systemd,sysvinit,upstart,direct,detect}, ' +
        'exec.ts ExecaRunner, host-stats.ts LinuxHostStats, udp-datagrams.ts UdpDatagramSender) and api/app.ts; everyone else takes an interface (import type).',
      from: { path: '^src/', pathNot: ['^src/(main|cli)\\.ts$', '^src/dev/', '^src/system/', TEST] },
      to: { path: CONCRETE, ...VALUE },
    },
    {
      name: 'unit-tests-use-fakes',
      severity: 'error',
      comment: 'A unit test outside system/ uses test/fakes, not a concrete system adapter or api/app.ts (STYLE.md §7).',
      from: { path: `^src/.*${TEST}`, pathNot: '^src/system/' },
      to: { path: CONCRETE, ...VALUE },
    },
    {
      name: 'production-not-test',
      severity: 'error',
      comment: 'Production code never imports a test, a fake or test support.',
      from: { path: '^src/', pathNot: TEST },
      to: { path: ['^test/', TEST] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve would hide from every rule above.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Keep type-only imports in the graph: they are what tells an interface use from a value use.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Record imports of test/ and npm packages, but do not cruise them.
    doNotFollow: { path: ['node_modules', '^test/'] },
    exclude: { path: '__golden__' },
    // Unchanged files are served from here (keyed by content, not by git), which takes about a third off a rerun.
    cache: { folder: 'node_modules/.cache/dependency-cruiser', strategy: 'content' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'] },
  },
};
