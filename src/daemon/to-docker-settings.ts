/**
 * `[runners.docker]` → the settings the Docker executor uses. Keys berth does not use are left out
 * (they were warned about when the file was loaded).
 */
import type { ServiceSpec } from '../job/job-spec.js';
import type { DockerSettings } from '../executor/docker/docker-settings.js';
import type { RunnerConfig, ServiceConfig } from '../config/berth-config.js';

export function toDockerSettings(runner: RunnerConfig): DockerSettings {
  const d = runner.docker;
  return {
    host: d.host,
    tlsVerify: d.tlsVerify,
    tlsCertPath: d.tlsCertPath,
    image: d.image,
    services: d.services.map(toServiceSpec),
    pullPolicy: [...d.pullPolicy],
    allowedPullPolicies: [...d.allowedPullPolicies],
    allowedImages: [...d.allowedImages],
    allowedServices: [...d.allowedServices],
    allowedCredentialHelpers: [...d.allowedCredentialHelpers],
    privileged: d.privileged,
    servicesPrivileged: d.servicesPrivileged,
    allowedPrivilegedImages: [...d.allowedPrivilegedImages],
    allowedPrivilegedServices: [...d.allowedPrivilegedServices],
    user: d.user,
    allowedUsers: [...d.allowedUsers],
    disableEntrypointOverwrite: d.disableEntrypointOverwrite,
    volumes: [...d.volumes],
    networkMode: d.networkMode,
    networkMtu: d.networkMtu,
    enableIpv6: d.enableIpv6,
    extraHosts: [...d.extraHosts],
    dns: [...d.dns],
    dnsSearch: [...d.dnsSearch],
    hostname: d.hostname,
    capAdd: [...d.capAdd],
    capDrop: [...d.capDrop],
    securityOpt: [...d.securityOpt],
    memory: d.memory,
    memorySwap: d.memorySwap,
    memoryReservation: d.memoryReservation,
    cpus: d.cpus,
    cpusetCpus: d.cpusetCpus,
    cpuShares: d.cpuShares,
    shmSize: d.shmSize,
    tmpfs: { ...d.tmpfs },
    servicesTmpfs: { ...d.servicesTmpfs },
    sysctls: { ...d.sysctls },
    oomKillDisable: d.oomKillDisable,
    waitForServicesTimeout: d.waitForServicesTimeout,
    containerLabels: { ...d.containerLabels },
  };
}

/** `[[runners.docker.services]]` → ServiceSpec: aliases split on commas and spaces, "K=V" variables. */
export function toServiceSpec(s: ServiceConfig): ServiceSpec {
  return {
    name: s.name,
    aliases: s.alias.split(/[\s,]+/).filter(Boolean),
    variables: s.environment.flatMap((kv) => {
      const eq = kv.indexOf('=');
      return eq < 0 ? [] : [{ key: kv.slice(0, eq), value: kv.slice(eq + 1) }];
    }),
    ...(s.entrypoint.length ? { entrypoint: [...s.entrypoint] } : {}),
    ...(s.command.length ? { command: [...s.command] } : {}),
  };
}
