/** The .gitlab-ci.yml compiler of `berth exec`. */
export { compilePipeline } from './compile-pipeline.js';
export { selectJobs } from './select-jobs.js';
export { formatJobList } from './format-job-list.js';
export { readLocalGitInfo, type LocalGitInfo } from './local-git.js';
export { listSourceFiles } from './source-files.js';
export type { CompileOptions, Pipeline, PipelineJob, PipelineJobWhen, RetryPolicy } from './pipeline.js';
