/**
 * Where a job's files come from. The executor asks for a host folder and the files in it to
 * copy into the build directory; `release` removes anything the provider made for the job.
 */
import type { JobSpec } from '../job/job-spec.js';
import type { JobLog } from '../log/job-log.js';
import { submoduleSettings } from '../job/submodule-settings.js';
import { variableValue } from '../job/variables.js';

export interface FetchedSources {
  root: string;
  files: readonly string[];
  /** One line for the job log, e.g. "Copying 42 files from the working tree". */
  description: string;
  release(): Promise<void>;
}

export interface SourceProvider {
  /** The section header of the get_sources stage. */
  readonly header: string;
  /** Returns null when the job has no sources (GIT_STRATEGY=none). */
  fetch(job: JobSpec, log: JobLog, signal: AbortSignal): Promise<FetchedSources | null>;
}

/** The files of the submodules checked out in a local working tree (pipeline/project/submodule-files.ts). */
export interface LocalSubmoduleLister {
  list(recursive: boolean, paths: readonly string[]): Promise<{ files: string[]; warnings: string[] }>;
}

/**
 * `berth exec`: the listed files of the local working tree, read in place, never modified; with
 * GIT_SUBMODULE_STRATEGY normal or recursive, also those of the submodules checked out in it.
 */
export class LocalTreeSource implements SourceProvider {
  readonly header = 'Getting source from the working tree';

  /** `submodules`: none for a folder that is not a git working tree. */
  constructor(private readonly submodules?: LocalSubmoduleLister) {}

  async fetch(job: JobSpec, log: JobLog): Promise<FetchedSources | null> {
    const s = job.sources;
    if (s.kind !== 'local-tree') return null;
    // As gitlab-runner (shells/abstract.go writeGetSourcesScript) and GitSource: no sources, an
    // empty project directory; the job works on its dependencies' artifacts only.
    const strategy = variableValue(job.variables, 'GIT_STRATEGY');
    if (strategy === 'none' || strategy === 'empty') {
      log.println('Skipping Git repository setup');
      return null;
    }
    let files: readonly string[] = s.files;
    const submodules = submoduleSettings(job.variables, 0);
    if (submodules.strategy !== 'none' && this.submodules) {
      const recursive = submodules.strategy === 'recursive';
      log.println(`Using the submodules checked out in the working tree${recursive ? ', recursively' : ''} (berth exec never fetches them)`);
      const listed = await this.submodules.list(recursive, submodules.paths);
      for (const warning of listed.warnings) log.warning(warning);
      files = [...s.files, ...listed.files].sort();
    }
    return {
      root: s.root,
      files,
      description: `Copying ${files.length} files from the working tree ${s.root}`,
      release: async () => undefined,
    };
  }
}
