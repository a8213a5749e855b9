/**
 * Turns [runners.docker] resource and security settings into Engine API HostConfig fields.
 * Values were validated by config/; unparseable ones here are a configuration error.
 */
import { JobFailure } from '../../job/job-result.js';
import type { DockerSettings } from './docker-settings.js';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "512m", "1g", "1048576" → bytes; "" → undefined. */
export function parseByteSize(value: string, key: string): number | undefined {
  if (!value) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/i.exec(value.trim());
  if (!m) throw new JobFailure('runner_configuration_error', `[runners.docker] ${key}: "${value}" is not a size like 512m or 2g`);
  return Math.round(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}

/** HostConfig for the build container. */
export function buildHostConfig(s: DockerSettings): Record<string, unknown> {
  const hc: Record<string, unknown> = {};
  if (s.dns.length) hc.Dns = s.dns;
  if (s.dnsSearch.length) hc.DnsSearch = s.dnsSearch;
  if (s.capAdd.length) hc.CapAdd = s.capAdd;
  if (s.capDrop.length) hc.CapDrop = s.capDrop;
  if (s.securityOpt.length) hc.SecurityOpt = s.securityOpt;
  const memory = parseByteSize(s.memory, 'memory');
  if (memory) hc.Memory = memory;
  const swap = parseByteSize(s.memorySwap, 'memory_swap');
  if (swap) hc.MemorySwap = swap;
  const reservation = parseByteSize(s.memoryReservation, 'memory_reservation');
  if (reservation) hc.MemoryReservation = reservation;
  if (s.cpus) {
    const cpus = Number(s.cpus);
    if (!Number.isFinite(cpus) || cpus <= 0) {
      throw new JobFailure('runner_configuration_error', `[runners.docker] cpus: "${s.cpus}" is not a positive number`);
    }
    hc.NanoCpus = Math.round(cpus * 1e9);
  }
  if (s.cpusetCpus) hc.CpusetCpus = s.cpusetCpus;
  if (s.cpuShares) hc.CpuShares = s.cpuShares;
  if (s.shmSize) hc.ShmSize = s.shmSize;
  if (Object.keys(s.tmpfs).length) hc.Tmpfs = s.tmpfs;
  if (Object.keys(s.sysctls).length) hc.Sysctls = s.sysctls;
  if (s.oomKillDisable) hc.OomKillDisable = true;
  return hc;
}

/** HostConfig for service containers: DNS and services_tmpfs, no build-container limits. */
export function serviceHostConfig(s: DockerSettings): Record<string, unknown> {
  const hc: Record<string, unknown> = {};
  if (s.dns.length) hc.Dns = s.dns;
  if (s.dnsSearch.length) hc.DnsSearch = s.dnsSearch;
  if (Object.keys(s.servicesTmpfs).length) hc.Tmpfs = s.servicesTmpfs;
  return hc;
}
