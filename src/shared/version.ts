/** berth's version, shown in `--version` and the job log header. */
export const BERTH_VERSION = '0.1.0';

/** Set by the bundler (scripts/bundle/bundle.mjs) to the commit built; unbundled code has none. */
declare const __BERTH_REVISION__: string | undefined;

/** The git commit berth was built from ('' when unknown): `info.revision` in GitLab requests. */
export const BERTH_REVISION: string = typeof __BERTH_REVISION__ === 'string' ? __BERTH_REVISION__ : '';
