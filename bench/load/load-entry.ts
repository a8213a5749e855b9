/** bench/load: the load harness (test/support/load-harness.ts), bundled by run.mjs with esbuild. */
export { runLoad } from '../../test/support/load-harness.js';
