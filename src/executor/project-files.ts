/**
 * ProjectFiles: what the job-file stages (cache, artifacts) may do with the job's project
 * directory, wherever the engine runs: read a part of it as entries, and extract a tar stream
 * into it. The Docker executor implements it with the Engine's archive API (no bind mount, no
 * helper image, no tool in the job image).
 */
import type { Readable } from 'node:stream';
import type { FileEntrySource } from '../artifacts/file-entry.js';

export interface ProjectFiles {
  /** CI_PROJECT_DIR inside the build container (absolute). */
  readonly projectDir: string;
  /**
   * Everything under `relPath` (a file or folder relative to CI_PROJECT_DIR; '' is the whole
   * directory), the entry itself first, with paths relative to CI_PROJECT_DIR. Links are
   * entries, never followed. Null when `relPath` does not exist.
   */
  read(relPath: string, signal: AbortSignal): Promise<FileEntrySource | null>;
  /** Extracts a tar stream whose names are relative to CI_PROJECT_DIR into CI_PROJECT_DIR. */
  write(tar: Readable, signal: AbortSignal): Promise<void>;
  /**
   * The files the sources put there (git's tracked files), relative: `untracked` is the rest.
   * Null when the project directory is no git repository (GIT_STRATEGY none or empty).
   */
  tracked(): ReadonlySet<string> | null;
}
