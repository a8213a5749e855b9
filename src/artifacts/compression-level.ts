/**
 * ARTIFACT_COMPRESSION_LEVEL / CACHE_COMPRESSION_LEVEL → a zip level (0 = store, 1-9 = Deflate).
 * The names and the Deflate levels are gitlab-runner's: commands/helpers/archiver.go
 * (getCompressionLevel, with its warning) and commands/helpers/archive/fastzip/
 * zip_fastzip_archiver.go (flateLevels: fastest stores without compression).
 */

const LEVELS: Readonly<Record<string, number>> = {
  fastest: 0,
  fast: 1,
  default: 5,
  '': 5,
  slow: 7,
  slowest: 9,
};

export const DEFAULT_COMPRESSION_LEVEL = 5;

export function compressionLevel(value: string | undefined, warn: (msg: string) => void): number {
  const name = value ?? '';
  const level = Object.hasOwn(LEVELS, name) ? LEVELS[name] : undefined;
  if (level !== undefined) return level;
  warn(`compression level ${JSON.stringify(name)} is invalid, falling back to default`);
  return DEFAULT_COMPRESSION_LEVEL;
}
