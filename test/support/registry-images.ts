/**
 * Test images in and out of test registries, through the Engine API (dockerode, test support
 * only): tag + push local images, import unique single-layer images (labelled with the test
 * run's label) whose layers the engine does not have yet, corrupt a blob in registry storage,
 * and remove every image reference a test created.
 */
import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pack } from 'tar-stream';

export interface PushAuth {
  username: string;
  password: string;
  serveraddress: string;
}

export class TestImages {
  constructor(
    /** `key=value` label every imported image carries. */
    readonly label: string,
    /** Registry hosts whose references this test owns (all removed at cleanup). */
    readonly registryHosts: string[] = [],
    /** The engine the images live on (default: the local one, from the environment). */
    readonly docker: Docker = new Docker(),
  ) {}

  /** Tags a local image as `repo:tag`. */
  async tag(source: string, repo: string, tag: string): Promise<void> {
    await this.docker.getImage(source).tag({ repo, tag });
  }

  /** Pushes `repo:tag`; resolves with the manifest digest the registry gave it. */
  async push(repo: string, tag: string, auth: PushAuth): Promise<string> {
    const stream = (await this.docker.getImage(repo).push({ tag, authconfig: auth } as object)) as unknown as Readable;
    const events = await readEvents(stream);
    const failed = events.find((e) => e.error);
    if (failed) throw new Error(`push of ${repo}:${tag} failed: ${String(failed.error)}`);
    const digest = events.map((e) => (e.aux as { Digest?: string } | undefined)?.Digest).find(Boolean);
    if (!digest) throw new Error(`push of ${repo}:${tag} gave no digest`);
    return digest;
  }

  /** Tags `source` as `repo:tag`, pushes it, and removes the local tag again. */
  async publish(source: string, repo: string, tag: string, auth: PushAuth): Promise<string> {
    await this.tag(source, repo, tag);
    const digest = await this.push(repo, tag, auth);
    await this.untag(`${repo}:${tag}`);
    return digest;
  }

  /**
   * Imports a fresh single-layer image (`sizeBytes` of random data, plus a marker file) as
   * `repo:tag`, labelled with the run label. Returns its ID.
   */
  async importUnique(repo: string, tag: string, sizeBytes = 256 * 1024): Promise<string> {
    const tar = pack();
    tar.entry({ name: 'berth-unique', mode: 0o644 }, randomBytes(sizeBytes));
    tar.entry({ name: 'marker.txt', mode: 0o644 }, `${repo}:${tag}\n`);
    tar.finalize();
    const [k, v] = this.label.split('=');
    const stream = (await this.docker.importImage(tar as unknown as NodeJS.ReadableStream, {
      repo,
      tag,
      changes: [`LABEL ${k}=${v}`, 'CMD ["sh"]'],
    } as object)) as unknown as Readable;
    const events = await readEvents(stream);
    const failed = events.find((e) => e.error);
    if (failed) throw new Error(`import of ${repo}:${tag} failed: ${String(failed.error)}`);
    const info = await this.docker.getImage(`${repo}:${tag}`).inspect();
    return info.Id;
  }

  /** Removes one reference (tag or digest reference); the image goes when none is left. */
  async untag(ref: string): Promise<void> {
    try {
      await this.docker.getImage(ref).remove({ noprune: false });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
  }

  /** Every reference under this test's registry hosts, and every image with the run label. */
  async leftovers(): Promise<string[]> {
    const images = await this.docker.listImages({ all: false });
    const out: string[] = [];
    for (const img of images) {
      const refs = [...(img.RepoTags ?? []), ...(img.RepoDigests ?? [])].filter((r) => r !== '<none>:<none>' && r !== '<none>@<none>');
      out.push(...refs.filter((r) => this.registryHosts.some((h) => r.startsWith(`${h}/`))));
      const [k, v] = this.label.split('=');
      if (k && img.Labels?.[k] === v) out.push(img.Id);
    }
    return [...new Set(out)];
  }

  /** Removes what leftovers() finds (only objects this test made). */
  async cleanup(): Promise<void> {
    for (let round = 0; round < 3; round++) {
      const left = await this.leftovers();
      if (!left.length) return;
      for (const ref of left) {
        try {
          await this.docker.getImage(ref).remove({ force: ref.startsWith('sha256:') });
        } catch (err) {
          if ((err as { statusCode?: number }).statusCode !== 404 && round === 2) throw err;
        }
      }
    }
  }
}

function readEvents(stream: Readable): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => (text += d));
    stream.on('error', reject);
    stream.on('end', () =>
      resolve(
        text
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      ),
    );
  });
}

/** The path of a blob's data file in a registry's filesystem storage. */
export function blobPath(storage: string, digest: string): string {
  const hex = digest.replace(/^sha256:/, '');
  return join(storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}

/** The layer digests of a manifest stored in the registry (schema 2). */
export function manifestLayers(storage: string, manifestDigest: string): string[] {
  const manifest = JSON.parse(readFileSync(blobPath(storage, manifestDigest), 'utf8')) as { layers?: { digest: string }[] };
  return (manifest.layers ?? []).map((l) => l.digest);
}

/** Flips bytes in the middle of a blob, keeping its size: the content no longer matches its digest. */
export function corruptBlob(storage: string, digest: string): void {
  const file = blobPath(storage, digest);
  const data = readFileSync(file);
  const at = Math.floor(data.length / 2);
  for (let i = at; i < Math.min(at + 64, data.length); i++) data[i] = data[i]! ^ 0xff;
  writeFileSync(file, data);
  if (statSync(file).size !== data.length) throw new Error('blob size changed');
}

/** Every blob digest in a registry's storage (for checks). */
export function storedBlobs(storage: string): string[] {
  const root = join(storage, 'docker/registry/v2/blobs/sha256');
  return readdirSync(root).flatMap((p) => readdirSync(join(root, p)).map((h) => `sha256:${h}`));
}
