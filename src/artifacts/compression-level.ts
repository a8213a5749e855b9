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

/**
 * `unset`: the level when the variable is not set (or empty); gitlab-runner's `default` (5)
 * unless the store says otherwise (berth exec's local stores: see LOCAL_STORE_COMPRESSION_LEVEL).
 * An explicit `default` is always 5.
 */
export function compressionLevel(value: string | undefined, warn: (msg: string) => void, unset = DEFAULT_COMPRESSION_LEVEL): number {
  const name = value ?? '';
  if (name === '') return unset;
  const level = Object.hasOwn(LEVELS, name) ? LEVELS[name] : undefined;
  if (level !== undefined) return level;
  warn(`compression level ${JSON.stringify(name)} is invalid, falling back to default`);
  return DEFAULT_COMPRESSION_LEVEL;
}

/**
 * berth exec keeps artifacts and caches on the same disk, in the repository's `.berth/`: unless
 * ARTIFACT_COMPRESSION_LEVEL / CACHE_COMPRESSION_LEVEL say otherwise they are stored without
 * compression (gitlab-runner's `fastest`). Deflating and inflating 200 MB in 20,000 files took
 * about twice the CPU of the whole hand-over on 2 cores (bench/artifacts, level 0 against 5, 3
 * interleaved pairs: 6.7/10.2/10.4 s against 10.6/13.8/13.6 s; `fast`, level 1, was no faster than 5).
 */
export const LOCAL_STORE_COMPRESSION_LEVEL = 0;
