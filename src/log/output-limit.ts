/** A job log's size limit, as gitlab-runner's `output_limit`, and the notice GitLab shows when it is hit. */
/** 4096 KiB, gitlab-runner's default `output_limit`. */
export const DEFAULT_OUTPUT_LIMIT_KIB = 4096;

/** GitLab's notice, byte for byte (bold yellow, then reset). */
export function outputLimitNotice(limitBytes: number): string {
  return `\n\x1b[33;1mJob's log exceeded limit of ${limitBytes} bytes.\nJob execution will continue but no more output will be collected.\x1b[0;m\n`;
}
