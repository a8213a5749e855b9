/**
 * config.toml fixtures: one as gitlab-runner 17–19 writes it after `register` (glrt- token, docker
 * executor), one with most `[runners.docker]` keys set, for round trips.
 */
export const GITLAB_RUNNER_WRITTEN = `concurrent = 1
check_interval = 0
shutdown_timeout = 0

[session_server]
  session_timeout = 1800

[[runners]]
  name = "docker-runner"
  url = "https://gitlab.example.com/"
  id = 42
  token = "glrt-t1_abcdefghijKLMNOPQRST"
  token_obtained_at = 2024-05-06T07:08:09Z
  token_expires_at = 0001-01-01T00:00:00Z
  executor = "docker"
  [runners.custom_build_dir]
  [runners.cache]
    MaxUploadedArchiveSize = 0
    [runners.cache.s3]
    [runners.cache.gcs]
    [runners.cache.azure]
  [runners.docker]
    tls_verify = false
    image = "alpine:latest"
    privileged = false
    disable_entrypoint_overwrite = false
    oom_kill_disable = false
    disable_cache = false
    volumes = ["/cache"]
    shm_size = 0
    network_mtu = 0
`;

export const FULL_CONFIG = `concurrent = 4
check_interval = 5
log_level = "warning"
log_format = "json"
listen_address = "127.0.0.1:9252"
shutdown_timeout = 60
connection_max_age = "20m0s"

[[runners]]
  name = "full"
  limit = 2
  output_limit = 8192
  request_concurrency = 2
  strict_check_interval = true
  unhealthy_requests_limit = 5
  unhealthy_interval = "1h30m0s"
  job_status_final_update_retry_limit = 4
  url = "https://gitlab.test/"
  id = 9
  token = "glrt-fullfullfullfull"
  token_obtained_at = 2024-01-02T03:04:05Z
  token_expires_at = 2025-01-02T03:04:05Z
  tls-ca-file = "/etc/ssl/gitlab.pem"
  executor = "docker"
  shell = "bash"
  builds_dir = "/b"
  cache_dir = "/c"
  clone_url = "https://mirror.test"
  environment = ["A=1", "B=two words"]
  pre_build_script = """
echo pre
echo "quoted"
"""
  post_build_script = "echo post"
  debug_trace_disabled = true
  [runners.labels]
    team = "ci"
  [runners.custom_build_dir]
    enabled = true
  [runners.feature_flags]
    FF_NETWORK_PER_BUILD = true
    FF_USE_FASTZIP = false
  [runners.docker]
    host = "unix:///run/docker.sock"
    image = "busybox:1"
    memory = "512m"
    cpus = "1.5"
    cpu_shares = 512
    dns = ["1.1.1.1"]
    privileged = true
    services_privileged = false
    user = "1000"
    allowed_users = ["1000", "root"]
    cap_add = ["NET_ADMIN"]
    security_opt = ["no-new-privileges"]
    volumes = ["/cache", "/srv/data:/data:ro"]
    extra_hosts = ["registry.test:127.0.0.1"]
    network_mode = "bridge"
    wait_for_services_timeout = -1
    allowed_images = ["registry.test/*"]
    allowed_pull_policies = ["always", "if-not-present"]
    pull_policy = ["if-not-present", "always"]
    shm_size = 67108864
    allowed_credential_helpers = ["pass"]
    [runners.docker.tmpfs]
      "/tmp" = "rw,size=64m"
    [runners.docker.sysctls]
      "net.ipv4.ip_forward" = "1"
    [runners.docker.container_labels]
      "com.example/team" = "ci"
    [[runners.docker.services]]
      name = "redis:7"
      alias = "cache,kv store"
    [[runners.docker.services]]
      name = "postgres:16"
      entrypoint = ["docker-entrypoint.sh"]
      command = ["postgres", "-c", "fsync=off"]
      environment = ["POSTGRES_PASSWORD=secret"]
`;
