/**
 * Where `berth exec` keeps job artifacts: `.berth/artifacts/<job>/` in the repository, one folder
 * per job name (`<clean name>-<hash>`, stable across runs), holding what the job uploaded:
 * `archive.zip` (artifacts:paths/untracked) and one file per report (`junit.gz`, `dotenv.gz`,
 * `<type>.raw`), with `artifacts.json` describing them and the dotenv variables. A job's folder
 * is emptied when it starts again. A job that depends on one not run this time gets that job's
 * artifacts from the last run that made them (said in its log).
 *
 * Plays GitLab's part for uploads: a dotenv report is parsed when it is "uploaded" (GitLab's
 * rules and limits; an invalid one fails the job, as GitLab's 400 does).
 * Folders are made without following links (src/fs-guard); archives move in by rename.
 */
import { createHash } from 'node:crypto';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LOCAL_STORE_COMPRESSION_LEVEL } from '../artifacts/compression-level.js';
import { parseDotenvReport } from '../artifacts/dotenv-report.js';
import { readGzipMembers } from '../artifacts/gzip-members.js';
import type { ArtifactTransport, ArtifactUpload, LocalArchive } from '../executor/job-files/transports.js';
import { ensureDirUnder, writeFileUnder } from '../fs-guard/index.js';
import type { DependencySpec } from '../job/job-spec.js';
import type { JobLog } from '../log/job-log.js';
import { PROJECT_BERTH_DIR } from '../pipeline/index.js';
import { BerthError } from '../shared/errors.js';

const ARTIFACTS_DIR = `${PROJECT_BERTH_DIR}/artifacts`;
const TEMP_DIR = `${PROJECT_BERTH_DIR}/tmp`;
const META = 'artifacts.json';

export interface StoredArtifact {
  type: string;
  format: 'zip' | 'gzip' | 'raw';
  /** File name in the job's folder. */
  file: string;
  /** The name GitLab would have got (artifacts.zip, junit.xml.gz, ...). */
  filename: string;
  size: number;
  expireIn: string;
}

export interface JobArtifacts {
  job: string;
  artifacts: StoredArtifact[];
  dotenv: { key: string; value: string }[];
}

export class LocalArtifactStore {
  private constructor(
    private readonly root: string,
    /** Real path of `.berth/tmp` (archives are built there, then renamed into place). */
    readonly tempRoot: string,
  ) {}

  static async open(root: string): Promise<LocalArtifactStore> {
    await ensureDirUnder(root, ARTIFACTS_DIR);
    const temp = await ensureDirUnder(root, TEMP_DIR, { mode: 0o700 });
    return new LocalArtifactStore(root, temp);
  }

  /** Empties a job's folder before it runs again. */
  async reset(job: string): Promise<void> {
    const dir = await ensureDirUnder(this.root, this.rel(job));
    await rm(dir, { recursive: true, force: true });
  }

  /** What a job stored (in this run or an earlier one); null when nothing. */
  async read(job: string): Promise<JobArtifacts | null> {
    const dir = await ensureDirUnder(this.root, this.rel(job), { create: false }).catch(() => null);
    if (!dir) return null;
    const text = await readFile(join(dir, META), 'utf8').catch(() => null);
    if (text === null) return null;
    try {
      return JSON.parse(text) as JobArtifacts;
    } catch {
      return null;
    }
  }

  /** The path of a stored artifact file of `job` (for reports), or null. */
  async pathOf(job: string, stored: StoredArtifact): Promise<string | null> {
    const dir = await ensureDirUnder(this.root, this.rel(job), { create: false }).catch(() => null);
    return dir ? join(dir, stored.file) : null;
  }

  /** The transport one job's stages use: uploads land in its folder, downloads read its dependencies'. */
  transportFor(job: string): ArtifactTransport {
    return {
      upload: (req, log) => this.upload(job, req, log),
      download: (dep, log) => this.download(dep, log),
      defaultCompressionLevel: LOCAL_STORE_COMPRESSION_LEVEL,
    };
  }

  private rel(job: string): string {
    const clean = job.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
    return `${ARTIFACTS_DIR}/${clean}-${createHash('sha256').update(job).digest('hex').slice(0, 8)}`;
  }

  private async upload(job: string, req: ArtifactUpload, log: JobLog): Promise<void> {
    const type = req.artifact.artifactType || 'archive';
    const size = (await stat(req.file)).size;
    let dotenv: { key: string; value: string }[] = [];
    if (type === 'dotenv') dotenv = parseDotenvReport(await readGzipMembers(req.file), size);
    const dir = await ensureDirUnder(this.root, this.rel(job));
    const current = (await this.read(job)) ?? { job, artifacts: [], dotenv: [] };
    if (current.artifacts.some((a) => a.type === type)) {
      throw new BerthError('artifacts_error', `another artifact of the same type already exists: job "${job}" has two ${type} artifacts`);
    }
    const file = `${type}.${req.format === 'gzip' ? 'gz' : req.format}`;
    await rename(req.file, join(dir, file));
    current.artifacts.push({ type, format: req.format, file, filename: req.filename, size, expireIn: req.expireIn });
    if (type === 'dotenv') current.dotenv = dotenv;
    await writeFileUnder(this.root, `${this.rel(job)}/${META}`, `${JSON.stringify(current, null, 2)}\n`);
    const what = type === 'archive' ? 'artifacts' : `artifacts as "${type}"`;
    log.println(`Uploading ${what} to ${dir}/${file}... ${size} bytes stored`);
  }

  private async download(dep: DependencySpec, log: JobLog): Promise<LocalArchive> {
    const stored = await this.read(dep.name);
    const archive = stored?.artifacts.find((a) => a.type === 'archive');
    const path = archive ? await this.pathOf(dep.name, archive) : null;
    if (!archive || !path) throw new BerthError('artifacts_error', `no artifacts of job "${dep.name}" are stored under ${ARTIFACTS_DIR}/: file does not exist`);
    log.println(`Using ${path} (${archive.size} bytes)`);
    return { path, release: async () => undefined };
  }
}
