/**
 * `compilePipeline`: .gitlab-ci.yml → Pipeline, in GitLab's order: load (YAML, includes) →
 * extends → !reference → globals (stages, variables, default, workflow) → jobs (checked
 * on the whole file) → rules/only/except → needs → one JobSpec per job.
 */
import { resolve } from 'node:path';
import { plainVariable, type JobVariable, type SourceSpec } from '../job/job-spec.js';
import { expandVariables, expandWith, lastByKey } from '../job/variables.js';
import { readDefaults } from './keywords/defaults.js';
import { ExistsChecker } from './rules/exists-checker.js';
import { ChangesChecker, type ChangesClause } from './rules/changes-checker.js';
import type { VariableLookup } from './rules/expression-evaluator.js';
import { resolveExtends } from './load/extends-resolver.js';
import { displayPath, loadConfig, preloadMainFile } from './load/include-resolver.js';
import { collectJobs } from './plan/job-collector.js';
import type { JobConfig } from './keywords/job-config.js';
import { decideInclusion } from './rules/job-inclusion.js';
import { buildJobSpec } from './plan/job-spec-builder.js';
import { findGitRoot, readLocalGitInfo, ZERO_SHA } from './project/local-git.js';
import { checkNeedsAcyclic, checkNeedsDefined, resolvePipelineNeeds } from './plan/needs-validation.js';
import type { CompileOptions, ParallelOrigin, Pipeline, PipelineJob, SkippedJob } from './pipeline.js';
import { toJsRegExp } from './keywords/coverage-config.js';
import { describeProject, jobVariables, pipelineVariables, type PipelineMeta } from './project/predefined-variables.js';
import { environmentVariables } from './project/environment-variables.js';
import { resolveReferences } from './load/reference-resolver.js';
import type { RuleContext } from './rules/rules.js';
import { SkippedIncludes } from './load/skipped-includes.js';
import { ExternalIncludes, includeProjectMap } from './load/external-includes.js';
import { DEFAULT_YAML_LIMITS } from './load/yaml-converter.js';
import { gitServerUrl } from './project/git-remote.js';
import { configError, SourcePositions } from './load/source-positions.js';
import { InputError } from '../shared/errors.js';
import { parseStages } from './keywords/stages.js';
import { parseVariables, type ConfigVariable } from './keywords/variables-config.js';
import { WarningList } from './warning-list.js';
import { isMap, type YamlMap, type YamlValue } from './load/yaml-value.js';
import { decideWorkflow, parseWorkflow, parseWorkflowName } from './rules/workflow.js';
import { expandString } from '../shared/expand-string.js';
import { isoSeconds } from '../shared/iso-seconds.js';
import { expandParallelJobs } from './plan/parallel-jobs.js';
import { checkDependencies, jobDependencies, type PlannedJob } from './plan/job-dependencies.js';
import { cacheSpecs } from './plan/cache-specs.js';
import { CacheKeyFiles } from './project/cache-key-files.js';
import { EDGE_ONLY_MESSAGE, onlyEdgeStages } from './plan/edge-stages.js';
import { checkOnStopJobs } from './plan/on-stop-check.js';

/** Variables of all jobs together (each job's own list counted), as the YAML alias limit bounds values. */
export const MAX_PIPELINE_VARIABLES = 2_000_000;

export async function compilePipeline(opts: CompileOptions): Promise<Pipeline> {
  const cwd = resolve(opts.cwd);
  const file = resolve(cwd, opts.file ?? '.gitlab-ci.yml');
  // git runs (two processes) while the main file is read and parsed: it only needs the root.
  const gitInfo = opts.git ?? readLocalGitInfo(cwd);
  const positions = new SourcePositions();
  const main = preloadMainFile(file, {
    root: opts.git ? opts.git.root : ((await findGitRoot(cwd)) ?? cwd),
    positions,
    mainFileNamed: opts.file !== undefined,
  });
  const git = await gitInfo;
  const root = git.root;
  const now = opts.now ?? new Date();
  const warnings = new WarningList();
  const project = describeProject(git);
  const meta: PipelineMeta = {
    id: opts.pipelineId ?? Math.floor(now.getTime() / 1000),
    iid: opts.pipelineIid ?? 1,
    createdAt: isoSeconds(now),
    configPath: displayPath(file, root),
  };
  const publicKeys = new Set(opts.publicVariables ?? []);
  const cli = Object.entries(opts.variables ?? {}).map(([k, v]) => ({ ...plainVariable(k, v), public: publicKeys.has(k) }));
  const predefined = pipelineVariables(git, project, meta);
  const exists = new ExistsChecker(root, git.isRepo);
  const changes = new ChangesChecker(root, git.isRepo, opts.changesBase);
  const changesOf = (lookup: VariableLookup, owner: string) => async (clause: ChangesClause) => {
    const outcome = await changes.check(clause, lookup, owner);
    if ('noBase' in outcome) warnings.addForJob(`rules:changes and only/except:changes count as true: ${outcome.noBase}`, owner);
    return outcome;
  };
  const ruleContext = (lookup: VariableLookup, owner: string): RuleContext => ({
    lookup,
    exists: (patterns) => exists.any(patterns, lookup),
    changes: changesOf(lookup, owner),
  });

  const includeLookup = lookupOf([...predefined, ...cli]);
  const skippedIncludes = new SkippedIncludes();
  let config = await loadConfig(file, {
    root,
    mainFileNamed: opts.file !== undefined,
    positions,
    warn: warnings.add,
    lookup: includeLookup,
    rules: { exists: (p) => exists.any(p, includeLookup), changes: changesOf(includeLookup, 'include') },
    onSkipped: skippedIncludes.add,
    main,
    external: new ExternalIncludes({
      ...opts.includes,
      projects: includeProjectMap(opts.includes?.projects, git.isRepo && git.sha !== ZERO_SHA ? { path: project.path, root } : null),
      maxBytes: DEFAULT_YAML_LIMITS.maxBytes,
      serverUrl: git.remoteUrl ? gitServerUrl(git.remoteUrl) : null,
      warn: warnings.add,
    }),
  });
  config = resolveExtends(config, positions, skippedIncludes, warnings.add);
  config = resolveReferences(config, positions, skippedIncludes, warnings.add);

  checkVariableVolume(config, positions, predefined.length + cli.length);

  const stages = parseStages(config, positions);
  const globalVariables = parseVariables(config.variables, 'global variables', positions, positions.key(config, 'variables'));
  const defaults = readDefaults(config, positions);
  const workflowRules = parseWorkflow(config.workflow, positions, positions.key(config, 'workflow'), warnings.add);
  const workflowName = parseWorkflowName(config.workflow, positions);
  const collected = expandParallelJobs(collectJobs(config, stages, defaults, positions, warnings.add, skippedIncludes));
  const forgivenNeeds = checkNeedsDefined(collected.jobs, collected.stageOf, stages, skippedIncludes, warnings.add);
  checkDependencies(collected.jobs, collected.stageOf, stages, skippedIncludes, warnings.add);
  checkOnStopJobs(collected.jobs, new Set(collected.skipped.map((s) => s.name)), skippedIncludes, warnings.add);

  const skippedJob = (job: JobConfig, reason: string): SkippedJob => ({ name: job.name, reason, stage: job.stage, parallel: parallelOrigin(job) });
  const pipeline: Pipeline = {
    file, root, pipelineId: meta.id, stages, jobs: [],
    skipped: collected.skipped.map((s) => ({ ...s, stage: collected.stageOf.get(s.name) })),
    warnings: [],
  };
  const workflowLookup = lookupOf([...predefined, ...toJobVariables(globalVariables), ...cli]);
  const workflow = await decideWorkflow(workflowRules, ruleContext(workflowLookup, 'workflow'), positions.key(config, 'workflow'));
  if (!workflow.run) {
    warnings.add(workflow.reason ?? 'workflow:rules prevent this pipeline');
    pipeline.skipped.push(...collected.jobs.map((j) => skippedJob(j, 'workflow:rules')));
    pipeline.warnings = warnings.toArray();
    return pipeline;
  }

  // CI_PIPELINE_NAME: workflow:name expanded with what it may use (predefined, global and
  // workflow:rules variables); a name that expands to nothing sets none.
  const pipelineName = workflowName === null ? '' : expandString(workflowName, lookupOf([...predefined, ...toJobVariables(globalVariables), ...toJobVariables(workflow.variables), ...cli])).trim();
  const pipelinePredefined = pipelineName ? [...predefined, plainVariable('CI_PIPELINE_NAME', pipelineName)] : predefined;
  const variablesFor = (job: JobConfig, id: number, manual: boolean, ruleVariables: ConfigVariable[]): JobVariable[] => {
    const builtIn = [...pipelinePredefined, ...jobVariables(project, { id, name: job.name, stage: job.stage, manual, node: job.instance ?? undefined })];
    const own = [
      ...toJobVariables(globalVariables.filter((v) => inheritsVariable(job, v.key))),
      ...toJobVariables(workflow.variables),
      ...toJobVariables(job.variables),
      // parallel:matrix variables are merged into the job's own (GitLab deep-merges job_variables).
      ...(job.instance?.variables ?? []).map(([key, value]) => plainVariable(key, value)),
      ...toJobVariables(ruleVariables),
      ...cli,
    ];
    // GitLab expands the environment's name with the job's variables; its variables sit among the predefined ones.
    const environment = job.environment ? environmentVariables(job.environment, (text) => expandWith(text, expandVariables([...builtIn, ...own]))) : [];
    return [...builtIn, ...environment, ...own];
  };
  const policyBase = { ref: git.ref, isTag: git.refType === 'tag', source: 'push', projectPath: project.path };
  const planned: { job: JobConfig; decision: Extract<Awaited<ReturnType<typeof decideInclusion>>, { included: true }> }[] = [];
  for (const job of collected.jobs) {
    const lookup = lookupOf(variablesFor(job, 0, job.when === 'manual', []));
    const decision = await decideInclusion(job, ruleContext(lookup, job.name), {
      ...policyBase,
      ref: lookup('CI_COMMIT_REF_NAME') ?? git.ref,
      isTag: (lookup('CI_COMMIT_TAG') ?? '') !== '',
      source: lookup('CI_PIPELINE_SOURCE') ?? 'push',
      lookup,
      changes: changesOf(lookup, job.name),
      onKubernetes: () => warnings.addForJob('only/except:kubernetes cannot be checked locally and counts as not active', job.name),
    }, warnings.add);
    if (decision.included) planned.push({ job, decision });
    else pipeline.skipped.push(skippedJob(job, decision.reason));
  }
  if (onlyEdgeStages(planned.map((p) => p.job.stage), collected.skipped.map((s) => collected.stageOf.get(s.name)))) {
    warnings.add(`every job left in this pipeline is in the .pre or .post stage, so GitLab would not create it ("${EDGE_ONLY_MESSAGE}"); a pipeline needs a job in another stage`);
    pipeline.skipped.push(...planned.map((p) => skippedJob(p.job, 'only .pre/.post jobs are left, and GitLab does not create such a pipeline')));
    pipeline.warnings = warnings.toArray();
    return pipeline;
  }

  const included = new Set(planned.map((p) => p.job.name));
  const notRunnable = new Set(collected.skipped.map((s) => s.name));
  const needsOf = new Map(planned.map((p) => [p.job.name, resolvePipelineNeeds(p.job.name, p.decision.needs, included, notRunnable, warnings.add, forgivenNeeds)]));
  checkNeedsAcyclic(new Map([...needsOf].map(([k, v]) => [k, (v ?? []).map((n) => n.job)])), (name) => planned.find((p) => p.job.name === name)?.job.where);

  const order = [...planned].sort((a, b) => stages.indexOf(a.job.stage) - stages.indexOf(b.job.stage));
  const ids = new Map(order.map((p, i) => [p.job.name, i + 1]));
  const sources: SourceSpec = { kind: 'local-tree', root, files: opts.listFiles === false ? [] : await exists.files() };
  // Only jobs that run a script make artifacts (GitLab: Ci::Build, not bridges); berth skips the others.
  const dependencyPlan: PlannedJob[] = planned.map((p) => ({ job: p.job, needs: p.decision.needs, id: ids.get(p.job.name)! }));
  const byId = [...dependencyPlan].sort((a, b) => a.id - b.id);
  const keyFiles = new CacheKeyFiles(root, () => exists.files(), git.isRepo);
  for (const [i, { job, decision }] of planned.entries()) {
    const id = ids.get(job.name)!;
    const manual = decision.when === 'manual';
    const spec = buildJobSpec({
      id, job, variables: variablesFor(job, id, manual, decision.ruleVariables), project, git, meta, sources,
      cache: await cacheSpecs(job.cache, keyFiles).catch((err: unknown) => {
        if (err instanceof InputError) throw new InputError(`job "${job.name}": cache:key: ${err.message}`, { file: err.file, key: 'cache' }, { cause: err });
        throw err;
      }),
      dependencies: jobDependencies(dependencyPlan[i]!, byId, stages),
    });
    for (const key of job.unsupportedKeys) warnings.addForJob(`"${key}" is not supported by berth exec yet and is ignored`, job.instance?.origin ?? job.name);
    const coverageRe = job.coverage === null ? null : toJsRegExp(job.coverage);
    if (coverageRe && 'error' in coverageRe) {
      warnings.addForJob(`coverage: berth cannot read /${job.coverage}/ as a JavaScript regular expression (${coverageRe.error}); the job's coverage is not computed`, job.instance?.origin ?? job.name);
    }
    const entry: PipelineJob = {
      name: job.name,
      stage: job.stage,
      when: decision.when,
      allowFailure: decision.allowFailure,
      allowFailureExitCodes: decision.exitCodes,
      needs: needsOf.get(job.name) ?? null,
      retry: job.retry,
      coverage: job.coverage,
      parallel: parallelOrigin(job),
      spec,
    };
    pipeline.jobs.push(entry);
  }
  pipeline.warnings = warnings.toArray();
  return pipeline;
}

function parallelOrigin(job: JobConfig): ParallelOrigin | null {
  const i = job.instance;
  return i ? { job: i.origin, index: i.index, total: i.total, matrix: i.variables ? Object.fromEntries(i.variables) : null } : null;
}

function toJobVariables(vars: readonly ConfigVariable[]): JobVariable[] {
  return vars.map((v) => ({ key: v.key, value: v.value, public: true, masked: false, file: false, raw: v.raw }));
}

function inheritsVariable(job: JobConfig, key: string): boolean {
  const setting = job.inherit.variables;
  return setting === true || (Array.isArray(setting) && setting.includes(key));
}

/** Values as rules see them: expanded (raw ones kept as written); last definition wins. */
function lookupOf(vars: readonly JobVariable[]): VariableLookup {
  const byKey = lastByKey(expandVariables(vars));
  return (name) => byKey.get(name)?.value;
}

/**
 * Every job gets every global variable and the variables `extends` shared into it, so a few
 * MiB of YAML can ask for jobs × variables beyond any use (2,000 jobs × 150,000 variables took
 * minutes and GiBs). Counted before any job is parsed, each distinct map once.
 */
function checkVariableVolume(config: YamlMap, positions: SourcePositions, perJob: number): void {
  const counted = new WeakMap<YamlMap, number>();
  const sizeOf = (value: YamlValue | undefined): number => {
    if (!isMap(value)) return 0;
    let n = counted.get(value);
    if (n === undefined) counted.set(value, (n = Object.keys(value).length));
    return n;
  };
  const global = sizeOf(config.variables);
  let total = 0;
  for (const [key, value] of Object.entries(config)) {
    if (!isMap(value) || key.startsWith('.') || NOT_JOBS.has(key)) continue;
    total += perJob + global + sizeOf(value.variables);
    if (total > MAX_PIPELINE_VARIABLES) {
      throw configError(
        positions.key(config, key),
        `job "${key}": the jobs up to this one have more than ${MAX_PIPELINE_VARIABLES} variables in all ` +
          `(${global} global, ${sizeOf(value.variables)} in this job); it looks like a variable bomb`,
      );
    }
  }
}

const NOT_JOBS = new Set(['default', 'workflow', 'variables', 'include', 'stages', 'spec']);
