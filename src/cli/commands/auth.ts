import type { Command } from 'commander';
import { homedir } from 'node:os';
import { InputError } from '../../shared/errors.js';

export interface AuthExplainOptions {
  image: string;
  variables: { key: string; value: string }[];
  config?: string;
  runner?: string;
  check: boolean;
  helperPath: string;
  homeDir: string;
}

/**
 * `berth auth explain IMAGE`: which registry credentials berth would use for IMAGE, from which
 * source, and why every other candidate was not used; `--check` asks the registry.
 */
export function register(program: Command): void {
  const auth = program.command('auth').description('registry credentials: see which ones berth uses, and why');
  auth
    .command('explain')
    .description('explain which credentials a job would use to pull IMAGE (why is my DOCKER_AUTH_CONFIG ignored?)')
    .argument('<image>', 'the image, as the job names it (variables already expanded)')
    .option(
      '--variable <KEY[=VALUE]>',
      'a job variable, e.g. DOCKER_AUTH_CONFIG=...; without "=VALUE" the value is taken from the environment (repeatable)',
      collect,
      [],
    )
    .option('--config <path>', "a runner config.toml: its [[runners]] environment and [runners.docker] allowed_credential_helpers")
    .option('--runner <name>', 'the [[runners]] entry of --config to use (default: the first)')
    .option('--check', 'ask the registry whether it accepts the credentials (a /v2/ round trip)', false)
    .action(async (image: string, raw: Record<string, unknown>) => {
      const opts: AuthExplainOptions = {
        image,
        variables: (raw.variable as string[]).map(parseVariable),
        config: raw.config as string | undefined,
        runner: raw.runner as string | undefined,
        check: Boolean(raw.check),
        helperPath: process.env.PATH ?? '',
        homeDir: homedir(),
      };
      process.exitCode = await runAuthExplain(opts);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseVariable(text: string): { key: string; value: string } {
  const eq = text.indexOf('=');
  const key = eq < 0 ? text : text.slice(0, eq);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new InputError(`--variable: "${key}" is not a variable name`, { key: '--variable' });
  if (eq >= 0) return { key, value: text.slice(eq + 1) };
  const value = process.env[key];
  if (value === undefined) throw new InputError(`--variable ${key}: ${key} is not set in the environment`, { key: '--variable' });
  return { key, value };
}

/** Prints the explanation; exit code 1 when --check finds the credentials refused or the registry unreachable. */
export async function runAuthExplain(opts: AuthExplainOptions, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const [{ explainRegistryAuth }, { formatExplanation }, { readRunnerAuthConfig }, { ImageRefError }, { readFile }, { expandWith }] =
    await Promise.all([
      import('../../image/auth/explain-registry-auth.js'),
      import('../../image/auth/format-explanation.js'),
      import('../../image/auth/runner-config-auth.js'),
      import('../../image/image-ref.js'),
      import('node:fs/promises'),
      import('../../job/variables.js'),
    ]);
  const lines: string[] = [];
  let runner = { environment: [] as string[], allowedCredentialHelpers: [] as string[], note: '', runnerName: '' };
  if (opts.config) {
    let text: string;
    try {
      text = await readFile(opts.config, 'utf8');
    } catch (err) {
      throw new InputError(`cannot read ${opts.config}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file: opts.config });
    }
    runner = readRunnerAuthConfig(text, opts.config, opts.runner);
    lines.push(`Runner:    "${runner.runnerName}" of ${opts.config}`);
    if (runner.note) lines.push(`           ${runner.note}`);
  }
  const jobVars = opts.variables.map((v) => ({ key: v.key, value: v.value, public: true, masked: false, file: false, raw: true }));
  const image = expandWith(opts.image, jobVars).trim();
  let explanation;
  try {
    explanation = await explainRegistryAuth({
      image,
      jobVariables: opts.variables,
      runnerEnvironment: runner.environment,
      allowedHelpers: runner.allowedCredentialHelpers,
      homeDir: opts.homeDir,
      helperPath: opts.helperPath,
    });
  } catch (err) {
    if (err instanceof ImageRefError) throw new InputError(err.message, { key: 'IMAGE' });
    throw err;
  }
  lines.push(...formatExplanation(explanation));
  let code = explanation.refusal ? 1 : 0;
  if (opts.check && !explanation.refusal) {
    const { checkRegistryAccess } = await import('../../image/auth/registry-check.js');
    const result = await checkRegistryAccess(explanation.registry, explanation.credential);
    lines.push('', `Check:     ${checkVerdict(result.outcome)}`, ...result.steps.map((s) => `           ${s}`));
    if (result.outcome !== 'accepted' && result.outcome !== 'open') code = 1;
  }
  out.write(`${lines.join('\n')}\n`);
  return code;
}

function checkVerdict(outcome: string): string {
  switch (outcome) {
    case 'accepted':
      return 'ACCEPTED: the registry accepts these credentials';
    case 'open':
      return 'the registry needs no credentials for /v2/ (a private repository may still need them)';
    case 'no-credentials':
      return 'REFUSED: the registry wants credentials and none would be sent';
    case 'refused':
      return 'REFUSED: the registry does not accept these credentials';
    default:
      return 'UNREACHABLE: no registry answer';
  }
}
