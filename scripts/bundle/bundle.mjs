#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli/main.js) into dist/berth.mjs plus the chunks it imports
// (dist/chunks/): a few modules to load instead of hundreds cuts berth's start-up time roughly
// in half, and code splitting keeps what a command imports lazily (the Docker client, the
// executor, the GitLab client and its zod schemas) out of what `berth exec --list` must compile:
// V8 parses every byte of a module it loads, and most of the bundle is not needed there.
// dist/berth.mjs and dist/chunks/ ship together (see Dockerfile). dockerode loads the SSH
// transport (ssh2) and the BuildKit session (grpc) at import time; berth uses neither, so the
// bundle replaces them with a stand-in that fails clearly if anything ever calls it.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const unused = fileURLToPath(new URL('./unused-module.cjs', import.meta.url));

// Chunk names carry a content hash: remove the previous build's so that they do not pile up.
rmSync(fileURLToPath(new URL('../../dist/chunks', import.meta.url)), { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: ['dist/cli/main.js'],
  outdir: 'dist',
  entryNames: 'berth',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  alias: { ssh2: unused, '@grpc/grpc-js': unused, '@grpc/proto-loader': unused },
  banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module';\nconst require = __berthCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
