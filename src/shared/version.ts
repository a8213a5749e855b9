/** berth's version, shown in `--version` and the job log header. */
export const BERTH_VERSION = '0.1.0';
