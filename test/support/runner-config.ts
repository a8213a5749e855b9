/** config.toml text and parsed configs for daemon and worker tests (no Docker needed). */
import type { BerthConfig, RunnerConfig } from '../../src/config/berth-config.js';
import { parseConfig } from '../../src/config/parse-config.js';

export interface RunnerConfigText {
  url: string;
  token: string;
  /** Lines of the global section (e.g. `shutdown_timeout = 1`). */
  global?: string[];
  /** Lines of the `[[runners]]` entry (e.g. `limit = 1`). */
  runner?: string[];
}

export function runnerConfigText(c: RunnerConfigText): string {
  return [
    'concurrent = 4',
    'check_interval = 1',
    ...(c.global ?? []),
    '',
    '[[runners]]',
    '  name = "unit-runner"',
    `  url = "${c.url}"`,
    `  token = "${c.token}"`,
    '  executor = "docker"',
    ...(c.runner ?? []).map((l) => `  ${l}`),
    '  [runners.docker]',
    '    image = "alpine:3"',
    '',
  ].join('\n');
}

export function parseTestConfig(text: string): BerthConfig {
  return parseConfig(text, { file: 'config.toml', env: {} }).config;
}

export function testRunnerConfig(c: RunnerConfigText): RunnerConfig {
  const runner = parseTestConfig(runnerConfigText(c)).runners[0];
  if (!runner) throw new Error('runnerConfigText made no [[runners]] entry');
  return runner;
}
