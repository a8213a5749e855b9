/**
 * The build container's create options: gitlab-runner's Cmd (`sh -c <detect shell>`), the
 * entrypoint override rules (gitlab-runner executors/docker/docker.go overwriteEntrypoint), the user and privilege allow-lists, mounts, network
 * and resource limits. Only public variables go into the container environment; secrets reach
 * the shell through the script on stdin, so `docker inspect` never shows them.
 */
import type { ContainerSpec, Mount } from '../../engine/engine-client.js';
import { JobFailure } from '../../job/job-result.js';
import type { ImageSpec, JobVariable } from '../../job/job-spec.js';
import { detectShellCommand } from '../../job/shell-detect.js';
import type { JobLog } from '../../log/job-log.js';
import { checkContainerEnv } from '../container-env-limit.js';
import type { DockerSettings } from './docker-settings.js';
import { matchesAnyGlob } from './glob-match.js';
import { buildHostConfig } from './host-config.js';
import type { PulledImage } from '../image-puller.js';
import type { Labeller } from './labeller.js';
import type { ServiceNetwork } from './service-manager.js';

export interface BuildContainerInput {
  image: ImageSpec;
  pulled: PulledImage;
  settings: DockerSettings;
  labeller: Labeller;
  variables: readonly JobVariable[];
  mounts: Mount[];
  binds: string[];
  network: ServiceNetwork;
  log: JobLog;
}

export function buildContainerSpec(input: BuildContainerInput): ContainerSpec {
  const { image, settings, labeller } = input;
  const name = labeller.name('build');
  const env = input.variables.filter((v) => v.public && !v.file).map((v) => `${v.key}=${v.value}`);
  checkContainerEnv(env, 'build container');
  return {
    name,
    image: input.pulled.ref,
    cmd: detectShellCommand(),
    entrypoint: entrypointFor(image, settings, input.log),
    env,
    labels: labeller.labels('build'),
    user: buildUser(image, settings),
    hostname: settings.hostname || labeller.baseName.slice(0, 63).replace(/[-.]+$/, ''),
    openStdin: true,
    mounts: input.mounts,
    binds: input.binds,
    networkMode: input.network.mode || undefined,
    networkAliases: input.network.userDefined ? ['build', name] : undefined,
    extraHosts: settings.extraHosts,
    privileged: settings.privileged && matchesAnyGlob(image.name, settings.allowedPrivilegedImages, true),
    platform: image.docker?.platform,
    hostConfig: buildHostConfig(settings),
  };
}

/** undefined: the image's ENTRYPOINT wraps the Cmd; `[""]` clears it; anything else replaces it. */
export function entrypointFor(image: ImageSpec, settings: DockerSettings, log: JobLog): string[] | undefined {
  if (!image.entrypoint?.length) return undefined;
  if (settings.disableEntrypointOverwrite) {
    log.warning('Entrypoint override disabled');
    return undefined;
  }
  return image.entrypoint;
}

function buildUser(image: ImageSpec, settings: DockerSettings): string | undefined {
  if (settings.user) return settings.user;
  const user = image.docker?.user;
  if (!user) return undefined;
  if (settings.allowedUsers.length && !settings.allowedUsers.includes(user)) {
    throw new JobFailure(
      'runner_configuration_error',
      `image:docker:user "${user}" is not allowed: allowed_users is [${settings.allowedUsers.join(', ')}]`,
    );
  }
  return user;
}

/** `[runners.docker] volumes`: "src:dst[:mode]" binds, and "dst" cache volumes named per runner and project. */
export function volumeBinds(volumes: readonly string[], cacheVolumeName: (dest: string) => string, log: JobLog): string[] {
  return volumes.map((v) => {
    if (/(^|:)\/var\/run\/docker\.sock(:|$)/.test(v)) {
      log.warning(`volume "${v}" mounts the Docker socket: every job on this runner gets root on the host`);
    }
    return v.includes(':') ? v : `${cacheVolumeName(v)}:${v}`;
  });
}
