/**
 * A test stand-in for the PullManager while it is being built: uses images already on the
 * engine and fails with image_pull_failure for anything else. Real engine, no registry.
 */
import type { EngineClient } from '../../src/engine/engine-client.js';
import type { ImagePuller, PullRequest, PulledImage } from '../../src/executor/image-puller.js';
import { JobFailure } from '../../src/job/job-result.js';

export class LocalImagePuller implements ImagePuller {
  constructor(private readonly engine: EngineClient) {}

  check(): void {}

  async pull(req: PullRequest): Promise<PulledImage> {
    const info = await this.engine.inspectImage(req.image.name, req.signal);
    if (!info) throw new JobFailure('image_pull_failure', `failed to pull image "${req.image.name}": not present locally`);
    return { ref: info.id, id: info.id, info };
  }
}
