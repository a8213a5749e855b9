#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli/main.js) into one file, dist/berth.mjs: one module to load
// instead of hundreds cuts berth's start-up time roughly in half. dockerode loads the SSH
// transport (ssh2) and the BuildKit session (grpc) at import time; berth uses neither, so the
// bundle replaces them with a stand-in that fails clearly if anything ever calls it.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const unused = fileURLToPath(new URL('./unused-module.cjs', import.meta.url));

await build({
  absWorkingDir: root,
  entryPoints: ['dist/cli/main.js'],
  outfile: 'dist/berth.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  alias: { ssh2: unused, '@grpc/grpc-js': unused, '@grpc/proto-loader': unused },
  banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module';\nconst require = __berthCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
