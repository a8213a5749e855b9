import { afterAll, describe, expect, it } from 'vitest';
import { ProjectFactory } from '../../test/support/project-factory.js';
import { InputError } from '../shared/errors.js';
import { checkDefaultImage, checkJobImages } from './check-job-images.js';

const projects = new ProjectFactory();
afterAll(() => projects.cleanup());

async function errorOf(yaml: string): Promise<InputError | null> {
  const p = await projects.compile(yaml);
  try {
    checkJobImages(p.jobs, p.file, p.root);
    return null;
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
}

describe('checkJobImages', () => {
  it('rejects an invalid image or service reference before anything runs, naming file, job and key', async () => {
    const image = await errorOf('job:\n  image: Alpine:3\n  script: x\n');
    expect(image?.message).toBe('.gitlab-ci.yml: job "job": image: invalid image reference "Alpine:3": the repository name must be lowercase; fix the image name');
    expect(image?.key).toBe('image');
    const service = await errorOf('variables: {V: "bad tag"}\njob:\n  image: alpine\n  services: ["redis:$V"]\n  script: x\n');
    expect(service?.message).toMatch(/^\.gitlab-ci\.yml: job "job": services\[0\]: invalid image reference "redis:bad tag": .* \(from "redis:\$V"\); fix the image name$/);
  });

  it('lets valid names through, and names that use a variable the job does not define', async () => {
    expect(await errorOf('job:\n  image: registry.example.com:5000/group/app:1.2@sha256:' + 'a'.repeat(64) + '\n  services: [postgres:16]\n  script: x\n')).toBeNull();
    expect(await errorOf('job:\n  image: $NOT_DEFINED_HERE\n  script: x\n')).toBeNull();
    expect(await errorOf('job:\n  script: x\n')).toBeNull();
  });

  it('checks --docker-image', () => {
    expect(() => checkDefaultImage('UPPER')).toThrow(/^--docker-image: invalid image reference "UPPER"/);
    expect(() => checkDefaultImage('alpine:3.20')).not.toThrow();
  });
});
