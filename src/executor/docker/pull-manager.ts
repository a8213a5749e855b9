/**
 * PullManager: the ImagePuller of the Docker executor. Checks references, allow-lists and pull
 * policies before anything is pulled; then, per image, tries each effective pull policy in
 * order (gitlab-runner executors/docker/internal/pull/manager.go, helpers/pull_policies), resolves registry credentials (gitlab-runner helpers/docker/auth/auth.go), pulls with retries for
 * transient errors, and pins digests. No log line or error carries a secret.
 */
import type { EngineClient, ImageInfo } from '../../engine/engine-client.js';
import { EngineError } from '../../engine/engine-error.js';
import { checkAllowedImage } from '../../image/allowed-images.js';
import { type ImageRef, type NamedImageRef, ImageRefError, authLookupPath, familiarName, parseImageRef, pullReference } from '../../image/image-ref.js';
import { type EffectivePolicies, PullPolicyError, formatPolicies, resolvePullPolicies } from '../../image/pull-policy.js';
import { classifyPullFailure, isTransientPullFailure } from '../../image/pull-failure.js';
import { PullProgressLog } from '../../image/pull-progress.js';
import { carriesPinnedDigest, pickRepoDigest } from '../../image/repo-digest.js';
import { SecretScrubber } from '../../image/secret-scrubber.js';
import { DOCKER_AUTH_CONFIG, readTextFile } from '../../image/auth/auth-sources.js';
import { ProcessHelperRunner } from '../../image/auth/credential-helper.js';
import { HelperNameError } from '../../image/auth/helper-policy.js';
import { type RegistryCredential, encodeRegistryAuth } from '../../image/auth/registry-credential.js';
import { resolveRegistryAuth } from '../../image/auth/resolve-registry-auth.js';
import type { JobSpec } from '../../job/job-spec.js';
import type { PullPolicy } from '../../shared/pull-policy.js';
import { type FailureReason, JobFailure } from '../../job/job-result.js';
import { variableValue } from '../../job/variables.js';
import { exponentialBackoff, retry } from '../../shared/retry.js';
import { BerthError, isAbortError } from '../../shared/errors.js';
import type { DockerSettings } from './docker-settings.js';
import type { ImagePuller, PulledImage, PullRequest } from '../image-puller.js';

export interface PullManagerOptions {
  engine: EngineClient;
  settings: DockerSettings;
  defaultPullPolicy: PullPolicy;
  policyOverride?: PullPolicy[] | undefined;
  runnerEnvironment: string[];
  homeDir: string;
  helperPath?: string | undefined;
  retry?: { attempts: number; minDelayMs: number; maxDelayMs: number } | undefined;
}

type RetryOptions = { attempts: number; minDelayMs: number; maxDelayMs: number };

/** A failed policy attempt with the job failure reason it would give. */
class PullAttemptError extends BerthError {
  constructor(
    readonly reason: FailureReason,
    message: string,
    readonly transient = false,
  ) {
    super('pull_failed', message);
  }
}

export class PullManager implements ImagePuller {
  private readonly retryOptions: RetryOptions;
  /** Per job: image name → the ID already used, so a second use does not pull again. */
  private readonly used = new WeakMap<JobSpec, Map<string, string>>();

  constructor(private readonly opts: PullManagerOptions) {
    this.retryOptions = opts.retry ?? { attempts: 3, minDelayMs: 2000, maxDelayMs: 10_000 };
  }

  check(req: PullRequest): void {
    this.parse(req);
    const { settings } = this.opts;
    const service = req.role.kind === 'service';
    const result = checkAllowedImage({
      image: req.image.name,
      kind: service ? 'services' : 'images',
      patterns: service ? settings.allowedServices : settings.allowedImages,
      internal: this.isInternal(req) ? [req.image.name] : [],
    });
    if (!result.allowed) {
      for (const line of result.lines) {
        if (line.level === 'error') req.log.error(line.text);
        else req.log.println(line.text);
      }
      throw new JobFailure(
        'runner_configuration_error',
        `disallowed image: "${req.image.name}" (${this.keyOf(req)}) is not on the runner's allowed_${service ? 'services' : 'images'}`,
      );
    }
    this.policies(req);
  }

  async pull(req: PullRequest): Promise<PulledImage> {
    const ref = this.parse(req);
    const effective = this.policies(req);
    req.log.println(`Using effective pull policy of ${formatPolicies(effective.policies)} for container ${req.image.name}`);
    const retryOptions = req.ahead ? { ...this.retryOptions, attempts: 1 } : this.retryOptions;
    const attempt = new PullAttempt(this.opts, retryOptions, req, ref, this.usedImage(req));
    let last: unknown = null;
    for (const [i, policy] of effective.policies.entries()) {
      if (i > 0) req.log.info(`Attempt #${i + 1}: Trying "${policy}" pull policy`);
      try {
        const info = await attempt.withPolicy(policy);
        return this.use(req, ref, info);
      } catch (err) {
        if (isAbortError(err) || err instanceof JobFailure) throw err;
        last = err;
        req.log.warning(`Failed to pull image with policy "${policy}": ${attempt.scrub(err)}`);
      }
    }
    // As gitlab-runner: an error nothing classified is a system failure.
    const reason = last instanceof PullAttemptError ? last.reason : 'runner_system_failure';
    throw new JobFailure(
      reason,
      `failed to pull image "${req.image.name}" with specified policies ${formatPolicies(effective.policies)}: ${attempt.scrub(last)}`,
    );
  }

  /** The ID this job already used for this image name, if any. */
  private usedImage(req: PullRequest): string | undefined {
    return this.used.get(req.job)?.get(req.image.name);
  }

  private use(req: PullRequest, ref: ImageRef, info: ImageInfo): PulledImage {
    const perJob = this.used.get(req.job) ?? new Map<string, string>();
    perJob.set(req.image.name, info.id);
    this.used.set(req.job, perJob);
    if (ref.kind === 'id') return { ref: info.id, id: info.id, info };
    const digest = pickRepoDigest(ref, info.repoDigests);
    req.log.println(`Using docker image ${info.id} for ${req.image.name}${digest ? ` with digest ${digest}` : ''} ...`);
    return { ref: ref.digest ? `${familiarName(ref)}@${ref.digest}` : info.id, id: info.id, info };
  }

  private parse(req: PullRequest): ImageRef {
    try {
      return parseImageRef(req.image.name);
    } catch (err) {
      if (!(err instanceof ImageRefError)) throw err;
      throw new JobFailure('runner_configuration_error', `job "${req.job.jobInfo.name}", ${this.keyOf(req)}: ${err.message}`);
    }
  }

  private policies(req: PullRequest): EffectivePolicies {
    const { settings } = this.opts;
    try {
      return resolvePullPolicies({
        image: req.image.name,
        job: req.image.pullPolicy,
        override: this.opts.policyOverride,
        config: settings.pullPolicy,
        allowed: settings.allowedPullPolicies,
        defaultPolicy: this.opts.defaultPullPolicy,
      });
    } catch (err) {
      if (err instanceof PullPolicyError) throw new JobFailure('runner_configuration_error', err.message);
      throw err;
    }
  }

  private isInternal(req: PullRequest): boolean {
    if (req.role.kind === 'service') return req.role.fromConfig;
    return req.image.name === this.opts.settings.image;
  }

  /** `image`, `services[1]`, or where the runner config named it. */
  private keyOf(req: PullRequest): string {
    if (req.role.kind === 'build') return this.isInternal(req) ? '[runners.docker] image' : 'image';
    const configCount = this.opts.settings.services.length;
    if (req.role.fromConfig) return `[[runners.docker.services]] #${req.role.index}`;
    return `services[${req.role.index >= configCount ? req.role.index - configCount : req.role.index}]`;
  }
}

/** One `pull()`: the local lookup, credentials (resolved once, when needed), the pull itself. */
class PullAttempt {
  private auth: Promise<RegistryCredential | null> | null = null;
  private scrubber: SecretScrubber;
  private readonly knownSecrets: string[];

  constructor(
    private readonly opts: PullManagerOptions,
    private readonly retryOptions: RetryOptions,
    private readonly req: PullRequest,
    private readonly ref: ImageRef,
    private readonly usedId: string | undefined,
  ) {
    const job = req.job;
    this.knownSecrets = [
      job.token,
      ...job.variables.filter((v) => v.masked || v.key === DOCKER_AUTH_CONFIG).map((v) => v.value),
      ...job.credentials.map((c) => c.password),
      ...opts.runnerEnvironment.filter((e) => e.startsWith(`${DOCKER_AUTH_CONFIG}=`)).map((e) => e.slice(DOCKER_AUTH_CONFIG.length + 1)),
    ];
    this.scrubber = new SecretScrubber(this.knownSecrets);
  }

  scrub(err: unknown): string {
    return this.scrubber.scrubError(err);
  }

  async withPolicy(policy: PullPolicy): Promise<ImageInfo> {
    const { req, ref } = this;
    const local = await this.inspectLocal();
    if (local && this.usedId === local.id) return local;
    if (policy === 'never') {
      if (local) return local;
      // gitlab-runner (pull/manager.go getImageUsingPullPolicy) returns the daemon's inspect error
      // as it is: not a BuildError, so the job fails as a system failure. The text is the
      // daemon's own (gitlab-runner's also ends with a Go source location, left out here).
      throw new PullAttemptError('runner_system_failure', `Error response from daemon: ${await this.missingReason()}`);
    }
    if (ref.kind === 'id') {
      if (local) return local;
      throw new PullAttemptError('runner_configuration_error', `image "${req.image.name}" is not present locally (an image ID names local content and cannot be pulled)`);
    }
    if (local && policy === 'if-not-present') {
      req.log.println(`Using locally found image version due to "if-not-present" pull policy`);
      return local;
    }
    await this.pullImage(ref);
    const pulled = await this.inspectLocal();
    if (!pulled) {
      const detail = ref.digest ? `no local image carries the pinned digest ${ref.digest}` : 'the image is not there after the pull';
      throw new PullAttemptError('image_pull_failure', `the engine reported a successful pull of ${pullReference(ref)}, but ${detail}`);
    }
    return pulled;
  }

  /** The engine's words for an image that is not there (its 404 to an inspect). */
  private async missingReason(): Promise<string> {
    const { ref, req } = this;
    const target = ref.kind === 'id' ? ref.id : pullReference(ref);
    try {
      await this.opts.engine.inspectImage(target, req.signal, { missing: 'throw' });
    } catch (err) {
      if (err instanceof EngineError && err.notFound) return this.scrub(err);
      if (isAbortError(err) || !(err instanceof EngineError)) throw err;
    }
    // There, but without the pinned digest in its RepoDigests (or an engine error): as a 404 reads.
    return `No such image: ${target}`;
  }

  /** The local image, or null; a digest pin counts only when RepoDigests carries it. */
  private async inspectLocal(): Promise<ImageInfo | null> {
    const { ref, req } = this;
    const target = ref.kind === 'id' ? ref.id : pullReference(ref);
    const info = await this.engineCall(() => this.opts.engine.inspectImage(target, req.signal));
    if (!info || ref.kind === 'id') return info;
    return carriesPinnedDigest(ref, info.repoDigests) ? info : null;
  }

  private async pullImage(ref: NamedImageRef): Promise<void> {
    const { req, opts } = this;
    const credential = await (this.auth ??= this.resolveAuth(ref));
    const target = pullReference(ref);
    const platform = req.image.docker?.platform;
    req.log.println(`Pulling docker image ${target}${platform ? ` for platform ${platform}` : ''} ...`);
    const { attempts, minDelayMs, maxDelayMs } = this.retryOptions;
    await retry(
      () =>
        this.engineCall(() =>
          opts.engine.pullImage(target, {
            ...(credential ? { registryAuth: encodeRegistryAuth(credential) } : {}),
            ...(platform ? { platform } : {}),
            signal: req.signal,
            onProgress: new PullProgressLog((line) => req.log.println(line)).onProgress,
          }),
        ),
      {
        attempts,
        delayMs: exponentialBackoff(minDelayMs, maxDelayMs),
        retryable: (err) => err instanceof PullAttemptError && err.transient,
        onRetry: (err, n, delay) =>
          req.log.warning(`Pulling ${target} failed: ${this.scrub(err)}. Retrying in ${(delay / 1000).toFixed(1)} s (attempt ${n + 1} of ${attempts})...`),
        signal: req.signal,
      },
    );
  }

  private async resolveAuth(ref: NamedImageRef): Promise<RegistryCredential | null> {
    const { req, opts } = this;
    let resolution;
    try {
      resolution = await resolveRegistryAuth(
        authLookupPath(ref),
        {
          jobAuthConfig: variableValue(req.job.variables, DOCKER_AUTH_CONFIG),
          runnerEnvironment: opts.runnerEnvironment,
          homeDir: opts.homeDir,
          payloadCredentials: req.job.credentials,
          allowedHelpers: opts.settings.allowedCredentialHelpers,
        },
        { readFile: readTextFile, helpers: new ProcessHelperRunner(opts.helperPath ?? process.env.PATH ?? '') },
      );
    } catch (err) {
      if (err instanceof HelperNameError) throw new JobFailure('runner_configuration_error', this.scrub(err));
      throw err;
    }
    this.scrubber = new SecretScrubber([...this.knownSecrets, ...resolution.secrets]);
    for (const w of resolution.warnings) req.log.warning(this.scrubber.scrub(w));
    if (!resolution.winner) return null;
    req.log.println(`Authenticating with credentials from ${resolution.winner.source}`);
    return resolution.winner.credential;
  }

  /** Engine errors become PullAttemptErrors with their failure reason; aborts pass through. */
  private async engineCall<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isAbortError(err) || !(err instanceof EngineError)) throw err;
      if (err.unreachable) throw new JobFailure('runner_system_failure', this.scrub(err));
      const reason = classifyPullFailure(err.message);
      throw new PullAttemptError(reason, this.scrub(err), isTransientPullFailure(reason));
    }
  }
}
