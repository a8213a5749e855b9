/**
 * Whether berth can dial a job's containers from its own process: the engine is local (a unix
 * socket, a named pipe, or tcp to a loopback address). Any other tcp host is a remote engine
 * whose container networks berth's machine does not route to, so the service health check runs
 * in a probe container on the job's network instead (ServiceManager, service-probe.ts).
 */

/** `endpoint` as DOCKER_HOST or [runners.docker] host spell it; undefined: an engine of unknown address, taken as local. */
export function isLocalEngine(endpoint: string | undefined): boolean {
  if (endpoint === undefined || endpoint === '') return true;
  if (endpoint.startsWith('/') || /^(unix|npipe|fd):/i.test(endpoint)) return true;
  let hostname: string;
  try {
    hostname = new URL(endpoint).hostname.toLowerCase();
  } catch {
    return false;
  }
  hostname = hostname.replace(/^\[|\]$/g, '');
  return hostname === 'localhost' || hostname === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}
