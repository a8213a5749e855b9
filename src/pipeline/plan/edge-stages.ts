/**
 * GitLab does not create a pipeline whose jobs, once workflow:rules, rules and only/except have
 * run, all sit in `.pre` or `.post`: those stages alone are not a pipeline (Chain::Populate
 * leaves them out of the stage count; gitlab-org/gitlab#198518). The push makes no pipeline,
 * and a pipeline started by hand fails with GitLab's message below.
 */
export const EDGE_STAGES: readonly string[] = ['.pre', '.post'];

export const EDGE_ONLY_MESSAGE = 'Pipeline will not run for the selected trigger. The rules configuration prevented any jobs from being added to the pipeline.';

/**
 * Whether GitLab would refuse the pipeline: jobs are planned, and all of them are in `.pre` or
 * `.post`. `unknownStages` are the stages of jobs berth cannot plan (trigger jobs, jobs of
 * skipped includes): GitLab may keep them, so one outside the edges keeps the pipeline.
 */
export function onlyEdgeStages(plannedStages: readonly string[], unknownStages: readonly (string | undefined)[]): boolean {
  const isEdge = (stage: string | undefined): boolean => stage !== undefined && EDGE_STAGES.includes(stage);
  if (!plannedStages.length || !plannedStages.every(isEdge)) return false;
  return unknownStages.every(isEdge);
}
