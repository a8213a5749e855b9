/**
 * The job log files of one `berth exec` run, under `<cwd>/.berth/logs/`. `prepare` runs before
 * any job: it creates the folder without following links and refuses, as an input error, a
 * `.berth`, `.berth/logs` or log file that is a link (or not a regular file), so a hostile
 * repository cannot make berth write outside it. `open` then opens each file the same way.
 */
import { PROJECT_BERTH_DIR } from '../pipeline/index.js';
import { join } from 'node:path';
import { checkWritableUnder, ensureDirUnder, openForWriteUnder } from '../fs-guard/index.js';
import { logFileNames } from './log-file-names.js';
import { PlainFileLog } from './plain-file-log.js';

const LOG_DIR = `${PROJECT_BERTH_DIR}/logs`;

export class JobLogFiles {
  private constructor(
    private readonly root: string,
    /** The real path of the logs folder, for messages. */
    readonly dir: string,
    private readonly names: Map<string, string>,
  ) {}

  /** The checks of `prepare`, without creating anything (an input error when they fail). */
  static async check(root: string, jobNames: readonly string[]): Promise<void> {
    await checkNames(root, logFileNames(jobNames));
  }

  static async prepare(root: string, jobNames: readonly string[]): Promise<JobLogFiles> {
    const names = logFileNames(jobNames);
    await checkNames(root, names);
    const dir = await ensureDirUnder(root, LOG_DIR);
    return new JobLogFiles(root, dir, names);
  }

  /** The log file name of a job (e.g. `test_web-1a2b3c4d.log`). */
  fileName(jobName: string): string {
    return this.names.get(jobName) ?? logFileNames([jobName]).get(jobName)!;
  }

  /** `append`: keep what the file holds (a job run again by `retry:` adds its run after the last). */
  async open(jobName: string, append = false): Promise<PlainFileLog> {
    const file = this.fileName(jobName);
    const fd = await openForWriteUnder(this.root, `${LOG_DIR}/${file}`, { append });
    return new PlainFileLog(join(this.dir, file), fd);
  }
}

async function checkNames(root: string, names: ReadonlyMap<string, string>): Promise<void> {
  for (const file of names.values()) await checkWritableUnder(root, `${LOG_DIR}/${file}`);
}
