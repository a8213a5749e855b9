/** What `berth exec` was asked to do: the command line, parsed and checked by the CLI. */
import type { PullPolicy } from '../shared/pull-policy.js';

export interface ExecOptions {
  jobs: string[];
  cwd: string;
  file?: string;
  variables: Record<string, string>;
  needs: boolean;
  pullPolicy?: PullPolicy;
  report?: string;
  color: boolean;
  list: boolean;
  /** With `list`: print the planned pipeline as JSON (format version 1). */
  json: boolean;
  concurrency: number;
  dockerImage?: string;
}
