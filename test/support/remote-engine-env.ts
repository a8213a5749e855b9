/**
 * The remote TLS engine's facts as scripts/setup-remote-engine.sh writes them (KEY=value lines:
 * DOCKER_HOST, DOCKER_CERT_PATH, ...), for the tests that use that engine.
 */
import { existsSync, readFileSync } from 'node:fs';

/** Where the facts are: BERTH_REMOTE_ENGINE_ENV, else the setup script's file. */
export function remoteEngineEnvFile(): string {
  return process.env.BERTH_REMOTE_ENGINE_ENV || '/var/lib/berth-remote/env';
}

/**
 * The facts, or null when the file is missing (the tests then skip). Under CI (.ci/run starts the
 * remote engine and sets BERTH_REQUIRE_REMOTE_ENGINE=1) a missing file is a failure, not a skip.
 */
export function loadRemoteEngineEnv(): Record<string, string> | null {
  const file = remoteEngineEnvFile();
  const env = existsSync(file) ? parseEnvLines(readFileSync(file, 'utf8')) : null;
  if (!env && process.env.BERTH_REQUIRE_REMOTE_ENGINE === '1') {
    throw new Error(`BERTH_REQUIRE_REMOTE_ENGINE=1 but ${file} is missing: scripts/setup-remote-engine.sh start did not run or failed`);
  }
  return env;
}

function parseEnvLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined) out[m[1]] = m[2] ?? '';
  }
  return out;
}
