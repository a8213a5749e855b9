/**
 * berth's module rules, checked by `npm run lint:deps` (part of `npm test`).
 * The table below is the source of truth; docs/architecture.md explains it. Change it
 * deliberately, in its own commit, with the reason in the commit message.
 *
 * MODULES[name] = the modules (under src/) that `name`'s non-test code may import.
 * Tests (*.test.ts) may import any module and test/support/.
 */
const MODULES = {
  shared: [],
  'fs-guard': ['shared'],
  job: ['shared'],
  // Archive formats, file selection, dotenv and JUnit reports, cache keys: pure, no I/O but files.
  artifacts: ['fs-guard', 'job', 'log', 'shared'],
  // The runner's cache stores: local cache.zip files and the distributed (S3) cache.
  cache: ['artifacts', 'executor', 'job', 'log', 'shared'],
  log: ['job', 'shared'],
  image: ['shared'],
  engine: ['shared'],
  config: ['shared'],
  pipeline: ['fs-guard', 'job', 'shared'],
  gitlab: ['artifacts', 'executor', 'job', 'log', 'shared'],
  executor: ['artifacts', 'engine', 'fs-guard', 'image', 'job', 'log', 'shared'],
  sources: ['executor', 'job', 'log', 'shared'],
  // Composition roots: they build the real implementations for one command.
  daemon: ['artifacts', 'cache', 'config', 'engine', 'executor', 'gitlab', 'image', 'job', 'log', 'shared', 'sources'],
  'local-run': ['artifacts', 'cache', 'engine', 'executor', 'fs-guard', 'image', 'job', 'log', 'pipeline', 'shared'],
  cli: ['config', 'daemon', 'engine', 'gitlab', 'image', 'job', 'local-run', 'log', 'shared'],
};

const NOT_TEST = '\\.test\\.ts$';

const layering = Object.entries(MODULES).map(([name, allowed]) => ({
  name: `layer-${name}`,
  comment: `src/${name}/ may import only: ${allowed.length ? allowed.join(', ') : 'nothing of berth'} (see docs/architecture.md)`,
  severity: 'error',
  from: { path: `^src/${name}/`, pathNot: NOT_TEST },
  to: { path: '^src/', pathNot: [`^src/(${[name, ...allowed].join('|')})/`] },
}));

module.exports = {
  forbidden: [
    ...layering,
    {
      name: 'no-circular',
      comment: 'No import cycles in src/ (type-only imports included).',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'unknown-module',
      comment: 'Every folder under src/ is a module listed in .dependency-cruiser.cjs.',
      severity: 'error',
      from: { path: '^src/', pathNot: `^src/(${Object.keys(MODULES).join('|')})/` },
      to: {},
    },
    {
      name: 'no-test-support-in-src',
      comment: 'Production code never imports test support; test helpers live in test/support/.',
      severity: 'error',
      from: { path: '^src/', pathNot: NOT_TEST },
      to: { path: '^test/' },
    },
    {
      name: 'executor-contract-not-docker',
      comment: 'The executor contract (src/executor/*.ts) does not depend on the Docker executor (src/executor/docker/).',
      severity: 'error',
      from: { path: '^src/executor/[^/]+$', pathNot: NOT_TEST },
      to: { path: '^src/executor/docker/' },
    },
    {
      name: 'dockerode-only-in-engine',
      comment: 'Only src/engine/ talks to dockerode; everything else uses the EngineClient interface.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/engine/' },
      to: { path: 'node_modules/(dockerode|docker-modem)/' },
    },
    {
      name: 'child-process-allow-list',
      comment:
        'Programs run on the host only from these files (git through the launchers, credential helpers): a repository handed to ' +
        'berth exec must never make berth run a program it names.',
      severity: 'error',
      from: {
        path: '^src/',
        pathNot: [
          NOT_TEST,
          '^src/sources/process-launcher\\.ts$',
          '^src/sources/shell-launcher\\.ts$',
          '^src/pipeline/project/host-git\\.ts$',
          '^src/image/auth/credential-helper\\.ts$',
        ],
      },
      to: { path: '^child_process$|^node:child_process$', dependencyTypes: ['core'] },
    },
    {
      name: 'launcher-users',
      comment:
        'The launchers start whatever program they are given: programs reach them only from git-command.ts ' +
        '(git with safe-git-argv). The daemon builds the ShellLauncher and hands it down (daemon-wiring, ' +
        'runner-worker, git-source pass it on).',
      severity: 'error',
      from: {
        path: '^src/',
        pathNot: [NOT_TEST, '^src/sources/(git-command|git-source|process-launcher|shell-launcher)\\.ts$', '^src/daemon/(daemon-wiring|runner-worker)\\.ts$'],
      },
      to: { path: '^src/sources/(process|shell)-launcher\\.ts$' },
    },
    {
      name: 'pipeline-entry',
      comment: 'Other modules use the .gitlab-ci.yml compiler through src/pipeline/index.ts only.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/pipeline/', NOT_TEST] },
      to: { path: '^src/pipeline/', pathNot: '^src/pipeline/index\\.ts$' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/.*\\.d\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.mjs'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
