/**
 * Global setup for integration and e2e tests: the Docker engine must be reachable (tests fail,
 * never skip, when it is not) and the local test images must exist (built if missing).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DockerodeEngine } from '../../src/engine/dockerode-engine.js';

export default async function setup(): Promise<void> {
  const engine = new DockerodeEngine();
  try {
    await engine.ping();
  } catch (err) {
    throw new Error(
      `Integration tests need a running Docker engine (${(err as Error).message}). ` +
        'Run scripts/setup-test-env.sh (as root) first.',
      { cause: err },
    );
  }
  const missing = await engine.inspectImage('berth-test/bash:latest');
  if (!missing) {
    const script = fileURLToPath(new URL('../../scripts/build-images.sh', import.meta.url));
    execFileSync('bash', [script], { stdio: 'inherit' });
  }
}
