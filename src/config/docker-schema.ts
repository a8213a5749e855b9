/**
 * `[runners.docker]`: every key gitlab-runner's Docker executor accepts (common/config.go
 * DockerConfig, in its order), with gitlab-runner's register flag (`--docker-<flag>`) and
 * environment variable. Keys marked `unused` are parsed and saved but berth does not act on them;
 * a non-default value gives a warning when the file is loaded. This file is one long table on
 * purpose: one line per key.
 */
import { bool, enumList, int, optBool, str, strList, strListMap, strMap, table, tableArray, type Schema } from './schema.js';

export const PULL_POLICIES = ['always', 'if-not-present', 'never'] as const;

/** `[[runners.docker.services]]`; a plain string in `services = [...]` is a name (berth extension). */
export const serviceSchema = {
  name: str('name', { doc: 'Service image' }),
  alias: str('alias', { doc: 'Aliases, separated by commas or spaces' }),
  entrypoint: strList('entrypoint', { doc: 'Entrypoint override' }),
  command: strList('command', { doc: 'Command override' }),
  environment: strList('environment', { doc: 'Service variables, "KEY=value"' }),
  suspendDataPath: str('suspend_data_path', { unused: true, doc: 'gitlab-runner (Kubernetes): path kept across a suspend' }),
} satisfies Schema;


export const dockerSchema = {
  host: str('host', { flag: 'host', env: 'DOCKER_HOST', doc: 'Docker daemon address (default: DOCKER_HOST or the local socket)' }),
  tlsCertPath: str('tls_cert_path', { flag: 'cert-path', env: 'DOCKER_CERT_PATH', doc: 'Directory with ca.pem, cert.pem, key.pem' }),
  tlsVerify: bool('tls_verify', { flag: 'tlsverify', env: 'DOCKER_TLS_VERIFY', always: true, doc: 'Use TLS and verify the daemon' }),
  hostname: str('hostname', { flag: 'hostname', env: 'DOCKER_HOSTNAME', doc: 'Container hostname' }),
  image: str('image', { flag: 'image', env: 'DOCKER_IMAGE', always: true, doc: 'Image used when the job names none' }),
  runtime: str('runtime', { flag: 'runtime', env: 'DOCKER_RUNTIME', unused: true, doc: 'Docker runtime' }),
  memory: str('memory', { flag: 'memory', env: 'DOCKER_MEMORY', doc: 'Memory limit ("512m")' }),
  memorySwap: str('memory_swap', { flag: 'memory-swap', env: 'DOCKER_MEMORY_SWAP', doc: 'Memory + swap limit' }),
  memoryReservation: str('memory_reservation', { flag: 'memory-reservation', env: 'DOCKER_MEMORY_RESERVATION', doc: 'Memory soft limit' }),
  cgroupParent: str('cgroup_parent', { flag: 'cgroup-parent', env: 'DOCKER_CGROUP_PARENT', unused: true, doc: 'Parent cgroup' }),
  cpusetCpus: str('cpuset_cpus', { flag: 'cpuset-cpus', env: 'DOCKER_CPUSET_CPUS', doc: 'CPUs the container may use ("0-1")' }),
  cpusetMems: str('cpuset_mems', { flag: 'cpuset-mems', env: 'DOCKER_CPUSET_MEMS', unused: true, doc: 'Memory nodes' }),
  cpus: str('cpus', { flag: 'cpus', env: 'DOCKER_CPUS', doc: 'Number of CPUs ("1.5")' }),
  cpuShares: int('cpu_shares', { flag: 'cpu-shares', env: 'DOCKER_CPU_SHARES', doc: 'CPU shares' }),
  dns: strList('dns', { flag: 'dns', env: 'DOCKER_DNS', doc: 'DNS servers' }),
  dnsSearch: strList('dns_search', { flag: 'dns-search', env: 'DOCKER_DNS_SEARCH', doc: 'DNS search domains' }),
  privileged: bool('privileged', { flag: 'privileged', env: 'DOCKER_PRIVILEGED', always: true, doc: 'Privileged build container' }),
  servicesPrivileged: optBool('services_privileged', { flag: 'services_privileged', env: 'DOCKER_SERVICES_PRIVILEGED', doc: 'Privileged services (unset: as privileged)' }),
  disableEntrypointOverwrite: bool('disable_entrypoint_overwrite', { flag: 'disable-entrypoint-overwrite', env: 'DOCKER_DISABLE_ENTRYPOINT_OVERWRITE', always: true, doc: 'Ignore entrypoint overrides from jobs' }),
  user: str('user', { flag: 'user', env: 'DOCKER_USER', doc: 'User that runs the job script' }),
  allowedUsers: strList('allowed_users', { flag: 'allowed_users', env: 'DOCKER_ALLOWED_USERS', doc: 'Users a job may ask for' }),
  groupAdd: strList('group_add', { flag: 'group-add', env: 'DOCKER_GROUP_ADD', unused: true, doc: 'Extra groups' }),
  usernsMode: str('userns_mode', { flag: 'userns', env: 'DOCKER_USERNS_MODE', unused: true, doc: 'User namespace mode' }),
  capAdd: strList('cap_add', { flag: 'cap-add', env: 'DOCKER_CAP_ADD', doc: 'Capabilities to add' }),
  capDrop: strList('cap_drop', { flag: 'cap-drop', env: 'DOCKER_CAP_DROP', doc: 'Capabilities to drop' }),
  oomKillDisable: bool('oom_kill_disable', { flag: 'oom-kill-disable', env: 'DOCKER_OOM_KILL_DISABLE', always: true, doc: 'Do not kill on OOM' }),
  oomScoreAdjust: int('oom_score_adjust', { flag: 'oom-score-adjust', env: 'DOCKER_OOM_SCORE_ADJUST', unused: true, doc: 'OOM score adjustment' }),
  securityOpt: strList('security_opt', { flag: 'security-opt', env: 'DOCKER_SECURITY_OPT', doc: 'Security options' }),
  servicesSecurityOpt: strList('services_security_opt', { flag: 'services-security-opt', env: 'DOCKER_SERVICES_SECURITY_OPT', unused: true, doc: 'Security options of services' }),
  devices: strList('devices', { flag: 'devices', env: 'DOCKER_DEVICES', unused: true, doc: 'Host devices' }),
  deviceCgroupRules: strList('device_cgroup_rules', { flag: 'device-cgroup-rules', env: 'DOCKER_DEVICE_CGROUP_RULES', unused: true, doc: 'Device cgroup rules' }),
  gpus: str('gpus', { flag: 'gpus', env: 'DOCKER_GPUS', unused: true, doc: 'GPUs' }),
  servicesDevices: strListMap('services_devices', { flag: 'services_devices', env: 'DOCKER_SERVICES_DEVICES', unused: true, doc: 'Devices per service image' }),
  disableCache: bool('disable_cache', { flag: 'disable-cache', env: 'DOCKER_DISABLE_CACHE', always: true, unused: true, doc: 'No cache volumes (register then skips "/cache")' }),
  volumes: strList('volumes', { flag: 'volumes', env: 'DOCKER_VOLUMES', doc: 'Volumes: "/path" or "host:container[:mode]"' }),
  volumeDriver: str('volume_driver', { flag: 'volume-driver', env: 'DOCKER_VOLUME_DRIVER', unused: true, doc: 'Volume driver' }),
  volumeDriverOps: strMap('volume_driver_ops', { flag: 'volume-driver-ops', env: 'DOCKER_VOLUME_DRIVER_OPS', unused: true, doc: 'Volume driver options' }),
  volumeKeep: bool('volume_keep', { flag: 'volume-keep', env: 'DOCKER_VOLUME_KEEP', unused: true, doc: 'Keep volumes of removed containers' }),
  cacheDir: str('cache_dir', { flag: 'cache-dir', env: 'DOCKER_CACHE_DIR', unused: true, doc: 'Host directory for cache volumes' }),
  extraHosts: strList('extra_hosts', { flag: 'extra-hosts', env: 'DOCKER_EXTRA_HOSTS', doc: '"host:ip" entries' }),
  volumesFrom: strList('volumes_from', { flag: 'volumes-from', env: 'DOCKER_VOLUMES_FROM', unused: true, doc: 'Containers to take volumes from' }),
  networkMode: str('network_mode', { flag: 'network-mode', env: 'DOCKER_NETWORK_MODE', doc: 'Network to attach containers to' }),
  ipcMode: str('ipcmode', { flag: 'ipcmode', env: 'DOCKER_IPC_MODE', unused: true, doc: 'IPC mode' }),
  pidMode: str('pid_mode', { flag: 'pid-mode', env: 'DOCKER_PID_MODE', unused: true, doc: 'PID mode' }),
  macAddress: str('mac_address', { flag: 'mac-address', env: 'DOCKER_MAC_ADDRESS', unused: true, doc: 'MAC address' }),
  links: strList('links', { flag: 'links', env: 'DOCKER_LINKS', unused: true, doc: 'Legacy container links' }),
  services: tableArray('services', serviceSchema, { doc: 'Services started for every job', stringShorthand: 'name' }),
  servicesLimit: int('services_limit', { flag: 'services-limit', env: 'DOCKER_SERVICES_LIMIT', default: -1, pointer: true, unused: true, doc: 'Maximum services per job (-1: no limit)' }),
  serviceMemory: str('service_memory', { flag: 'service-memory', env: 'DOCKER_SERVICE_MEMORY', unused: true, doc: 'Service memory limit' }),
  serviceMemorySwap: str('service_memory_swap', { flag: 'service-memory-swap', env: 'DOCKER_SERVICE_MEMORY_SWAP', unused: true, doc: 'Service memory + swap limit' }),
  serviceMemoryReservation: str('service_memory_reservation', { flag: 'service-memory-reservation', env: 'DOCKER_SERVICE_MEMORY_RESERVATION', unused: true, doc: 'Service memory soft limit' }),
  serviceCgroupParent: str('service_cgroup_parent', { flag: 'service-cgroup-parent', env: 'DOCKER_SERVICE_CGROUP_PARENT', unused: true, doc: 'Service parent cgroup' }),
  serviceSlotCgroupTemplate: str('service_slot_cgroup_template', { flag: 'service-slot-cgroup-template', env: 'DOCKER_SERVICE_SLOT_CGROUP_TEMPLATE', unused: true, doc: 'Template of service slot cgroup names' }),
  serviceCpusetCpus: str('service_cpuset_cpus', { flag: 'service-cpuset-cpus', env: 'DOCKER_SERVICE_CPUSET_CPUS', unused: true, doc: 'Service CPUs' }),
  serviceCpus: str('service_cpus', { flag: 'service-cpus', env: 'DOCKER_SERVICE_CPUS', unused: true, doc: 'Service number of CPUs' }),
  serviceCpuShares: int('service_cpu_shares', { flag: 'service-cpu-shares', env: 'DOCKER_SERVICE_CPU_SHARES', unused: true, doc: 'Service CPU shares' }),
  serviceGpus: str('service_gpus', { flag: 'service_gpus', env: 'DOCKER_SERVICE_GPUS', unused: true, doc: 'Service GPUs' }),
  waitForServicesTimeout: int('wait_for_services_timeout', { flag: 'wait-for-services-timeout', env: 'DOCKER_WAIT_FOR_SERVICES_TIMEOUT', default: 30, defaultWhen: 'zero', doc: 'Seconds to wait for services (-1: do not wait)' }),
  allowedImages: strList('allowed_images', { flag: 'allowed-images', env: 'DOCKER_ALLOWED_IMAGES', doc: 'Images jobs may use (globs)' }),
  allowedPrivilegedImages: strList('allowed_privileged_images', { flag: 'allowed-privileged-images', env: 'DOCKER_ALLOWED_PRIVILEGED_IMAGES', doc: 'Images that run privileged' }),
  allowedPrivilegedServices: strList('allowed_privileged_services', { flag: 'allowed-privileged-services', env: 'DOCKER_ALLOWED_PRIVILEGED_SERVICES', doc: 'Services that run privileged' }),
  allowedPullPolicies: enumList('allowed_pull_policies', PULL_POLICIES, { flag: 'allowed-pull-policies', env: 'DOCKER_ALLOWED_PULL_POLICIES', doc: 'Pull policies jobs may ask for' }),
  allowedServices: strList('allowed_services', { flag: 'allowed-services', env: 'DOCKER_ALLOWED_SERVICES', doc: 'Services jobs may use (globs)' }),
  pullPolicy: enumList('pull_policy', PULL_POLICIES, { flag: 'pull-policy', env: 'DOCKER_PULL_POLICY', doc: 'Pull policy, a string or a list tried in order' }),
  isolation: str('isolation', { flag: 'isolation', env: 'DOCKER_ISOLATION', unused: true, doc: 'Isolation (Windows)' }),
  shmSize: int('shm_size', { flag: 'shm-size', env: 'DOCKER_SHM_SIZE', always: true, doc: '/dev/shm size in bytes' }),
  tmpfs: strMap('tmpfs', { flag: 'tmpfs', env: 'DOCKER_TMPFS', doc: 'tmpfs mounts of the build container: path = options' }),
  servicesTmpfs: strMap('services_tmpfs', { flag: 'services-tmpfs', env: 'DOCKER_SERVICES_TMPFS', doc: 'tmpfs mounts of services' }),
  sysctls: strMap('sysctls', { flag: 'sysctls', env: 'DOCKER_SYSCTLS', doc: 'Kernel parameters' }),
  helperImage: str('helper_image', { flag: 'helper-image', env: 'DOCKER_HELPER_IMAGE', unused: true, doc: 'Helper image (berth needs none)' }),
  helperImageFlavor: str('helper_image_flavor', { flag: 'helper-image-flavor', env: 'DOCKER_HELPER_IMAGE_FLAVOR', unused: true, doc: 'Helper image flavor' }),
  containerLabels: strMap('container_labels', { flag: 'container-labels', doc: 'Extra labels on every container' }),
  enableIpv6: bool('enable_ipv6', { flag: 'enable-ipv6', doc: 'IPv6 on per-job networks' }),
  ulimit: strMap('ulimit', { flag: 'ulimit', env: 'DOCKER_ULIMIT', unused: true, doc: 'Ulimits "soft[:hard]"' }),
  networkMtu: int('network_mtu', { flag: 'network-mtu', always: true, doc: 'MTU of per-job networks' }),
  logOptions: strMap('log_options', { flag: 'log-options', env: 'DOCKER_LOG_OPTIONS', unused: true, doc: 'json-file log options' }),
  allowedCredentialHelpers: strList('allowed_credential_helpers', { flag: 'allowed-credential-helpers', env: 'DOCKER_ALLOWED_CREDENTIAL_HELPERS', doc: 'berth: credential helpers a job DOCKER_AUTH_CONFIG may run' }),
} satisfies Schema;

export const dockerTable = table('docker', dockerSchema, { doc: 'The Docker executor', flagPrefix: 'docker-' });
