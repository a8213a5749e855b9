/**
 * Registry keys of a Docker config (`auths`, `credHelpers`, credsStore entries, payload URLs)
 * normalised as gitlab-runner does (gitlab-runner helpers/docker/auth/auth.go), and the longest-path match against an image.
 */
import { DOCKER_HUB, LEGACY_HUB } from '../image-ref.js';

/**
 * `https://Index.Docker.io/v1/` → `docker.io`; `https://reg.test:5000/x` → `reg.test:5000`;
 * `Reg.Test:5000/ns/` → `reg.test:5000/ns`; `reg.local/ns/app:1` → `reg.local/ns/app`.
 * The port is kept, and a bare `index.docker.io` (no scheme) is not aliased to Docker Hub.
 */
export function normalizeRegistryKey(key: string): string {
  const scheme = /^https?:\/\//i;
  if (scheme.test(key)) {
    const host = (key.replace(scheme, '').split('/')[0] ?? '').toLowerCase();
    return host === LEGACY_HUB ? DOCKER_HUB : host;
  }
  let path = key.endsWith('/') ? key.slice(0, -1) : key;
  const lastColon = path.lastIndexOf(':');
  const lastSlash = path.lastIndexOf('/');
  if (lastSlash >= 0 && lastColon > lastSlash) path = path.slice(0, lastColon);
  return lowerHost(path);
}

function lowerHost(path: string): string {
  const i = path.indexOf('/');
  return i < 0 ? path.toLowerCase() : path.slice(0, i).toLowerCase() + path.slice(i);
}

/** `reg/ns/app` → [`reg/ns/app`, `reg/ns`, `reg`]: the candidates, longest first. */
export function lookupCandidates(imagePath: string): string[] {
  const out: string[] = [];
  for (let p = imagePath; p; p = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '') out.push(p);
  return out;
}

/** The longest normalised key that covers `imagePath` (same host and port, whole path segments). */
export function longestMatch(imagePath: string, normalizedKeys: Iterable<string>): string | null {
  const keys = new Set(normalizedKeys);
  for (const candidate of lookupCandidates(imagePath)) if (keys.has(candidate)) return candidate;
  return null;
}

/** Why a normalised key does not cover the image path, for `berth auth explain`; null when it does. */
export function mismatchReason(imagePath: string, normalizedKey: string): string | null {
  if (lookupCandidates(imagePath).includes(normalizedKey)) return null;
  const host = (p: string): string => p.split('/')[0] ?? '';
  const name = (h: string): string => h.replace(/:\d+$/, '');
  const imageHost = host(imagePath);
  const keyHost = host(normalizedKey);
  if (imageHost !== keyHost && name(imageHost) === name(keyHost)) {
    return `port differs (key ${keyHost}, image ${imageHost}): the port must match exactly`;
  }
  if (imageHost !== keyHost) return `other registry (${keyHost})`;
  return `path ${normalizedKey} is not a parent of ${imagePath}`;
}
