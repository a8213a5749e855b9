/**
 * The `[runners.docker]` settings the Docker executor uses, in camelCase, already validated.
 * config/ maps config.toml onto this; `berth exec` builds it from flags and defaults.
 */
import type { ServiceSpec } from '../../job/job-spec.js';
import type { PullPolicy } from '../../shared/pull-policy.js';

export interface DockerSettings {
  /** unix:///path or tcp://host:port; empty: DOCKER_HOST or the default socket. */
  host: string;
  tlsVerify: boolean;
  tlsCertPath: string;

  /** Used when the job names no image. */
  image: string;
  /** `services` and `[[runners.docker.services]]`: always allowed, started before job services. */
  services: ServiceSpec[];

  /** Config pull policy list; empty means the default (`always` for run, `if-not-present` for exec). */
  pullPolicy: PullPolicy[];
  allowedPullPolicies: PullPolicy[];
  allowedImages: string[];
  allowedServices: string[];
  /** Helper names a job-supplied DOCKER_AUTH_CONFIG may use (empty: none). */
  allowedCredentialHelpers: string[];

  privileged: boolean;
  servicesPrivileged: boolean | null;
  allowedPrivilegedImages: string[];
  allowedPrivilegedServices: string[];
  user: string;
  allowedUsers: string[];
  disableEntrypointOverwrite: boolean;

  volumes: string[];
  networkMode: string;
  networkMtu: number;
  enableIpv6: boolean;
  extraHosts: string[];
  dns: string[];
  dnsSearch: string[];
  hostname: string;

  capAdd: string[];
  capDrop: string[];
  securityOpt: string[];
  /** Docker units: "512m", "1g"; empty: no limit. */
  memory: string;
  memorySwap: string;
  memoryReservation: string;
  /** Number of CPUs as a decimal string ("1.5"); empty: no limit. */
  cpus: string;
  cpusetCpus: string;
  cpuShares: number;
  shmSize: number;
  tmpfs: Record<string, string>;
  servicesTmpfs: Record<string, string>;
  sysctls: Record<string, string>;
  oomKillDisable: boolean;

  /** Seconds; 0 means 30; -1 disables the service health check. */
  waitForServicesTimeout: number;
  /** Extra labels for every object (variable-expanded). */
  containerLabels: Record<string, string>;
}

export function defaultDockerSettings(): DockerSettings {
  return {
    host: '',
    tlsVerify: false,
    tlsCertPath: '',
    image: '',
    services: [],
    pullPolicy: [],
    allowedPullPolicies: [],
    allowedImages: [],
    allowedServices: [],
    allowedCredentialHelpers: [],
    privileged: false,
    servicesPrivileged: null,
    allowedPrivilegedImages: [],
    allowedPrivilegedServices: [],
    user: '',
    allowedUsers: [],
    disableEntrypointOverwrite: false,
    volumes: [],
    networkMode: '',
    networkMtu: 0,
    enableIpv6: false,
    extraHosts: [],
    dns: [],
    dnsSearch: [],
    hostname: '',
    capAdd: [],
    capDrop: [],
    securityOpt: [],
    memory: '',
    memorySwap: '',
    memoryReservation: '',
    cpus: '',
    cpusetCpus: '',
    cpuShares: 0,
    shmSize: 0,
    tmpfs: {},
    servicesTmpfs: {},
    sysctls: {},
    oomKillDisable: false,
    waitForServicesTimeout: 30,
    containerLabels: {},
  };
}
