/** The .gitlab-ci.yml compiler of `berth exec`. */
export { compilePipeline } from './compile-pipeline.js';
export { selectJobs } from './plan/select-jobs.js';
export { formatJobList } from './plan/format-job-list.js';
export { jobListJson, JOB_LIST_JSON_VERSION, type JobListJson, type JobListJsonJob } from './plan/job-list-json.js';
export { readLocalGitInfo, type LocalGitInfo } from './project/local-git.js';
export { listSourceFiles, PROJECT_BERTH_DIR } from './project/source-files.js';
export { LocalSubmodules, type SubmoduleFiles } from './project/submodule-files.js';
export { toJsRegExp } from './keywords/coverage-config.js';
export type { CompileOptions, ExternalIncludeOptions, ParallelOrigin, Pipeline, PipelineJob, PipelineJobWhen, RetryPolicy, SkippedJob } from './pipeline.js';
