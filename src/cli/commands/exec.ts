import { Command, Option } from 'commander';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { DEFAULT_OUTPUT_LIMIT_KIB } from '../../log/output-limit.js';
import { InputError } from '../../shared/errors.js';
import type { ExecOptions } from '../../local-run/exec-options.js';


/** `berth exec`: run a repository's .gitlab-ci.yml locally, in Docker, the way GitLab would. */
export function register(program: Command): void {
  program
    .command('exec')
    .description("run the jobs of a repository's .gitlab-ci.yml locally in Docker containers")
    .argument('[job...]', 'jobs to run (default: the whole pipeline)')
    .option('--cwd <dir>', 'the repository to run', process.cwd())
    .option('--file <path>', 'the pipeline file (default: <cwd>/.gitlab-ci.yml)')
    .option('--variable <KEY=VALUE>', 'a variable for every job, highest precedence (repeatable); for secrets: only the job script gets it, never the container environment', collect, [])
    .option('--public-variable <KEY=VALUE>', 'as --variable, but also in the container and service environment (visible in docker inspect)', collect, [])
    .option('--needs', 'also run the jobs the named jobs need', false)
    .addOption(new Option('--pull-policy <policy>', 'image pull policy').choices(['always', 'if-not-present', 'never']))
    .option('--report <path>', 'write a JSON report of the run')
    .option('--no-color', 'plain output without colours')
    .option('--list', 'list jobs, stages, needs and when without running anything', false)
    .option('--json', 'with --list: print the planned jobs as JSON (a stable format, see the README)', false)
    .option('--concurrency <n>', 'jobs run in parallel at most', (v: string) => parsePositive(v, '--concurrency'), availableParallelism())
    .option('--prewarm', 'prepare the next jobs\' build containers (created, sources in, shell started) while the jobs before them run (the default)', true)
    .option('--no-prewarm', 'prepare each job only when its turn comes')
    .option('--docker-image <image>', 'image for jobs that name none (as [runners.docker] image)')
    .option(
      '--output-limit <KiB>',
      "a job's log (terminal and .berth/logs file) stops at this many KiB with GitLab's notice; the job keeps running (as output_limit)",
      (v: string) => parsePositive(v, '--output-limit'),
      DEFAULT_OUTPUT_LIMIT_KIB,
    )
    .option('--changes-base <ref>', 'the branch, tag or commit rules:changes and only/except:changes compare with, through its merge base with HEAD (default: origin/HEAD, else main, else master)')
    .option('--debug-trace-disabled', 'ignore CI_DEBUG_TRACE: no shell tracing, which prints secret values (as [[runners]] debug_trace_disabled)', false)
    .option('--offline', 'never use the network for include:remote/project/component: the include cache and --include-project checkouts only (others are skipped with a warning)', false)
    .option('--include-cache <dir>', 'cache of include:remote files and include:project/component repositories (default: $XDG_CACHE_HOME/berth/includes or ~/.cache/berth/includes)')
    .option('--include-ca <file>', 'PEM CA certificates to trust for include:remote, besides the system ones')
    .option('--include-project <group/project=DIR>', 'read include:project and include:component files of that project from a local git checkout instead of fetching them (repeatable)', collect, [])
    .option('--docker-host <url>', 'the Docker engine: unix:///path/to/docker.sock or tcp://host:port (default: DOCKER_HOST, else the local socket; as [runners.docker] host)')
    .option('--docker-tls-verify', 'talk TLS to the engine and verify its certificate (default: DOCKER_TLS_VERIFY; as [runners.docker] tls_verify)')
    .option('--docker-cert-path <dir>', 'folder with ca.pem, cert.pem and key.pem for the engine (default: DOCKER_CERT_PATH, else ~/.docker with TLS verification; as [runners.docker] tls_cert_path)')
    .action(async (jobs: string[], raw: Record<string, unknown>) => {
      const opts: ExecOptions = {
        jobs,
        cwd: String(raw.cwd),
        file: raw.file as string | undefined,
        variables: { ...parseVariables(raw.variable as string[]), ...parseVariables(raw.publicVariable as string[], '--public-variable') },
        publicVariables: Object.keys(parseVariables(raw.publicVariable as string[], '--public-variable')),
        needs: Boolean(raw.needs),
        pullPolicy: raw.pullPolicy as ExecOptions['pullPolicy'],
        report: raw.report as string | undefined,
        color: raw.color !== false && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
        list: Boolean(raw.list),
        json: Boolean(raw.json),
        concurrency: raw.concurrency as number,
        prewarm: raw.prewarm === true,
        dockerImage: raw.dockerImage as string | undefined,
        outputLimitKiB: raw.outputLimit as number,
        debugTraceDisabled: raw.debugTraceDisabled === true,
        changesBase: raw.changesBase as string | undefined,
        includes: {
          cacheDir: typeof raw.includeCache === 'string' ? resolve(raw.includeCache) : undefined,
          caFile: typeof raw.includeCa === 'string' ? resolve(raw.includeCa) : undefined,
          offline: raw.offline === true,
          projects: parseIncludeProjects(raw.includeProject as string[]),
          // A token that can read the projects: berth's own variable first, then a job's CI_JOB_TOKEN.
          token: process.env.BERTH_GITLAB_TOKEN || process.env.CI_JOB_TOKEN || undefined,
        },
        engine: engineFlags(raw),
      };
      if (opts.json && !opts.list) throw new InputError('--json only works with --list (berth exec --list --json)', { key: '--json' });
      const { runExec } = await import('../../local-run/run-exec.js');
      process.exitCode = await runExec(opts);
    });
}

/**
 * The engine flags; what is not given stays undefined, so that DOCKER_HOST, DOCKER_TLS_VERIFY and
 * DOCKER_CERT_PATH apply (as the Docker CLI's -H, --tlsverify and --tlscacert/--tlscert/--tlskey).
 */
export function engineFlags(raw: Record<string, unknown>): ExecOptions['engine'] {
  const host = typeof raw.dockerHost === 'string' ? raw.dockerHost : undefined;
  if (host !== undefined && !/^(unix:\/\/\/|tcp:\/\/[^/]+)/.test(host)) {
    throw new InputError(`--docker-host "${host}": expected unix:///path/to/docker.sock or tcp://host:port`, { key: '--docker-host' });
  }
  return {
    host,
    tlsVerify: raw.dockerTlsVerify === true ? true : undefined,
    tlsCertPath: typeof raw.dockerCertPath === 'string' ? resolve(raw.dockerCertPath) : undefined,
  };
}

/** `--include-project group/project=/path/to/checkout` → { 'group/project': '/abs/path' }. */
export function parseIncludeProjects(entries: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const project = eq > 0 ? entry.slice(0, eq).replace(/^\/+|\/+$/g, '') : '';
    const dir = eq > 0 ? entry.slice(eq + 1) : '';
    if (!project.includes('/') || dir === '') {
      throw new InputError(`--include-project: "${entry}" is not group/project=/path/to/checkout`, { key: '--include-project' });
    }
    out[project] = resolve(dir);
  }
  return out;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parsePositive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InputError(`${flag}: "${value}" is not a positive whole number`, { key: flag });
  return n;
}

export function parseVariables(entries: readonly string[], flag = '--variable'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const key = eq < 0 ? '' : entry.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new InputError(`${flag} "${eq < 0 ? entry : key}": expected KEY=VALUE with a KEY of letters, digits and _`, {
        key: flag,
      });
    }
    out[key] = entry.slice(eq + 1);
  }
  return out;
}
