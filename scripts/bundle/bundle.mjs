#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli/main.js) into dist/berth.mjs plus the chunks it imports
// (dist/chunks/): a few modules to load instead of hundreds cuts berth's start-up time roughly
// in half, and code splitting keeps what a command imports lazily (the Docker client, the
// executor, the GitLab client and its zod schemas) out of what `berth exec --list` must compile:
// V8 parses every byte of a module it loads, and most of the bundle is not needed there.
// dist/berth.mjs and dist/chunks/ ship together (see Dockerfile). dockerode loads the SSH
// transport (ssh2), the BuildKit session (grpc, uuid) and the build-context packer (tar-fs 2 with
// its own tar-stream, bl and @balena/dockerignore) at import time and bundles BuildKit's progress
// decoder (protobufjs and long): 300 KB that every `berth exec` compiled before its first job.
// berth builds no images and uses none of them, so the bundle replaces them with a stand-in that
// fails clearly if anything ever calls it.
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const unused = fileURLToPath(new URL('./unused-module.cjs', import.meta.url));

// zod re-exports all its 60-odd translations of its error messages (`z.locales`, 370 KB of the
// 2 MB `berth run` loads); berth uses only the English one, which zod imports on its own. Every
// process that validates with zod parsed and kept them: the bundle leaves the namespace empty.
const noZodLocales = {
  name: 'no-zod-locales',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core)[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'berth-empty' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'berth-empty' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};

// Chunk names carry a content hash: remove the previous build's so that they do not pile up.
rmSync(fileURLToPath(new URL('../../dist/chunks', import.meta.url)), { recursive: true, force: true });

// The commit the bundle is built from, sent as `info.revision` as gitlab-runner sends its own
// (GitLab shows it on the runner's page); empty outside a git checkout.
let revision = '';
try {
  revision = execFileSync('git', ['rev-parse', '--short=8', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
} catch {
  // not a git checkout, or no git: no revision
}

await build({
  absWorkingDir: root,
  define: { __BERTH_REVISION__: JSON.stringify(revision) },
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
  alias: { ssh2: unused, '@grpc/grpc-js': unused, '@grpc/proto-loader': unused, protobufjs: unused, uuid: unused, 'tar-fs': unused, '@balena/dockerignore': unused },
  plugins: [noZodLocales],
  banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module';\nconst require = __berthCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
