/**
 * Docker image references: the grammar of distribution/reference, Docker Hub normalisation
 * (`ruby` → `docker.io/library/ruby`), the reference to pull, and image IDs (`sha256:<64 hex>`).
 * Pure: no I/O.
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [ domain "/" ] path-component ( "/" path-component )*
 *   domain    := host [ ":" port ]          (host: DNS name, IPv4, or [IPv6])
 */
import { BerthError } from '../shared/errors.js';

export const DOCKER_HUB = 'docker.io';
export const LEGACY_HUB = 'index.docker.io';
const OFFICIAL_NAMESPACE = 'library';
const NAME_MAX = 255;

const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])`;
const DOMAIN = `${HOST}(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const TAG_RE = new RegExp(`^${TAG}$`);
const DIGEST_RE = new RegExp(`^${DIGEST}$`);
const HEX64_RE = /^[a-f0-9]{64}$/;
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** A named reference (`registry.test:5000/group/app:1.2@sha256:…`). */
export interface NamedImageRef {
  kind: 'named';
  /** What was parsed, trimmed. */
  input: string;
  /** The registry host[:port]; `docker.io` for Docker Hub (also when `index.docker.io` was written). */
  domain: string;
  /** Whether the input named the registry (`docker.io/ruby` yes, `ruby` no). */
  explicitDomain: boolean;
  /** Repository path inside the registry, with `library/` for official Hub images. */
  path: string;
  /** The path as written after the registry (no `library/` added). */
  writtenPath: string;
  tag: string | null;
  digest: string | null;
}

/** An image ID (`sha256:<64 hex>`): it names local content only and is never pulled. */
export interface ImageIdRef {
  kind: 'id';
  input: string;
  id: string;
}

export type ImageRef = NamedImageRef | ImageIdRef;

/** A reference that does not follow the grammar; `reason` says what is wrong with it. */
export class ImageRefError extends BerthError {
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super('image_ref_invalid', `invalid image reference "${input}": ${reason}`);
  }
}

/** Parses an image reference as `docker pull` does. Throws ImageRefError. */
export function parseImageRef(text: string): ImageRef {
  const input = text.trim();
  if (!input) throw new ImageRefError(text, 'the image name is empty');
  if (HEX64_RE.test(input)) return { kind: 'id', input, id: `sha256:${input}` };
  if (/^sha256:[a-f0-9]{64}$/.test(input)) return { kind: 'id', input, id: input };

  const at = input.indexOf('@');
  const namePart = at >= 0 ? input.slice(0, at) : input;
  const digest = at >= 0 ? input.slice(at + 1) : null;
  if (digest !== null) checkDigest(input, digest);

  const slash = namePart.lastIndexOf('/');
  const colon = namePart.lastIndexOf(':');
  const hasTag = colon > slash;
  const name = hasTag ? namePart.slice(0, colon) : namePart;
  const tag = hasTag ? namePart.slice(colon + 1) : null;
  if (tag !== null && !TAG_RE.test(tag)) {
    throw new ImageRefError(input, `the tag "${tag}" must be 1 to 128 characters of letters, digits, "_", "." and "-", not starting with "." or "-"`);
  }

  const { domain, explicitDomain, writtenPath } = splitDomain(name);
  if (explicitDomain && !DOMAIN_RE.test(domain)) {
    throw new ImageRefError(input, `"${domain}" is not a valid registry host[:port]`);
  }
  if (writtenPath !== writtenPath.toLowerCase()) {
    throw new ImageRefError(input, 'the repository name must be lowercase');
  }
  if (!PATH_RE.test(writtenPath)) {
    throw new ImageRefError(
      input,
      `"${writtenPath}" is not a valid repository path (lowercase letters and digits, separated by ".", "_", "__", "-" or "/")`,
    );
  }
  const normalDomain = domain === LEGACY_HUB ? DOCKER_HUB : domain;
  const path = normalDomain === DOCKER_HUB && !writtenPath.includes('/') ? `${OFFICIAL_NAMESPACE}/${writtenPath}` : writtenPath;
  if (name.length > NAME_MAX) throw new ImageRefError(input, `the name is longer than ${NAME_MAX} characters`);
  return { kind: 'named', input, domain: normalDomain, explicitDomain, path, writtenPath, tag, digest };
}

/** Docker's rule: the first component is a registry when it has "." or ":", is "localhost", or has upper case. */
function splitDomain(name: string): { domain: string; explicitDomain: boolean; writtenPath: string } {
  const i = name.indexOf('/');
  const first = i >= 0 ? name.slice(0, i) : '';
  const isDomain = i >= 0 && (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase());
  if (!isDomain) return { domain: DOCKER_HUB, explicitDomain: false, writtenPath: name };
  return { domain: first, explicitDomain: true, writtenPath: name.slice(i + 1) };
}

function checkDigest(input: string, digest: string): void {
  if (!DIGEST_RE.test(digest)) {
    throw new ImageRefError(input, `"${digest}" is not a digest (expected sha256:<64 lowercase hex digits>)`);
  }
  const [algorithm = '', hex = ''] = digest.split(':');
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) throw new ImageRefError(input, `unsupported digest algorithm "${algorithm}"`);
  if (hex.length !== length || hex !== hex.toLowerCase()) {
    throw new ImageRefError(input, `a ${algorithm} digest is ${length} lowercase hex digits, got "${hex}"`);
  }
}

/** `docker.io/library/ruby`: registry and full path. */
export function canonicalName(ref: NamedImageRef): string {
  return `${ref.domain}/${ref.path}`;
}

/** `ruby`, `user/app`, `registry.test:5000/app`: the short form Docker prints. */
export function familiarName(ref: NamedImageRef): string {
  if (ref.domain !== DOCKER_HUB) return canonicalName(ref);
  return ref.path.startsWith(`${OFFICIAL_NAMESPACE}/`) ? ref.path.slice(OFFICIAL_NAMESPACE.length + 1) : ref.path;
}

/**
 * The reference to pull: by digest when there is one (a tag next to a digest is ignored, as
 * the digest decides the content), else by tag, `latest` only when neither was given.
 */
export function pullReference(ref: NamedImageRef): string {
  if (ref.digest) return `${familiarName(ref)}@${ref.digest}`;
  return `${familiarName(ref)}:${ref.tag ?? 'latest'}`;
}

/** The canonical reference with its tag or digest (`docker.io/library/ruby:latest`). */
export function canonicalReference(ref: NamedImageRef): string {
  if (ref.digest) return `${canonicalName(ref)}@${ref.digest}`;
  return `${canonicalName(ref)}:${ref.tag ?? 'latest'}`;
}

/**
 * gitlab-runner's path for credential lookup (gitlab-runner helpers/docker/auth/auth.go): lowercase host, no tag or digest,
 * `docker.io/` before a Hub name and no `library/` added (`ruby` → `docker.io/ruby`).
 */
export function authLookupPath(ref: NamedImageRef): string {
  return `${ref.domain.toLowerCase()}/${ref.writtenPath}`;
}
