/**
 * Digest pins against an image's RepoDigests (`registry.test:5000/app@sha256:…`, or the familiar
 * `busybox@sha256:…` for Docker Hub): a local image counts as the pinned one only when one of
 * its RepoDigests names the same repository with the same digest.
 */
import { type NamedImageRef, canonicalName, parseImageRef } from './image-ref.js';

function parseRepoDigest(text: string): NamedImageRef | null {
  try {
    const ref = parseImageRef(text);
    return ref.kind === 'named' && ref.digest ? ref : null;
  } catch {
    return null;
  }
}

export function carriesPinnedDigest(ref: NamedImageRef, repoDigests: readonly string[]): boolean {
  if (!ref.digest) return true;
  return repoDigests.some((d) => {
    const parsed = parseRepoDigest(d);
    return parsed !== null && parsed.digest === ref.digest && canonicalName(parsed) === canonicalName(ref);
  });
}

/** The RepoDigest to show for `ref`: the pin, else one of the same repository, else the first. */
export function pickRepoDigest(ref: NamedImageRef | null, repoDigests: readonly string[]): string | null {
  if (!ref) return repoDigests[0] ?? null;
  const same = repoDigests.filter((d) => {
    const parsed = parseRepoDigest(d);
    return parsed !== null && canonicalName(parsed) === canonicalName(ref);
  });
  const pinned = same.find((d) => ref.digest && d.endsWith(`@${ref.digest}`));
  return pinned ?? same[0] ?? repoDigests[0] ?? null;
}
