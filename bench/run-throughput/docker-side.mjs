// The Docker side of bench/run-throughput, through the docker CLI: the bare `docker run --rm`
// baseline, the engine's event stream for the runner's containers (where a job's time goes),
// and the leftover check.
import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const DOCKER = process.env.DOCKER ?? '/usr/bin/docker';
const run = promisify(execFile);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function dockerRun(image, label, now) {
  const t0 = now();
  const { stdout } = await run(DOCKER, ['run', '--rm', '--label', label, image, 'sh', '-c', 'echo job']);
  if (stdout !== 'job\n') throw new Error(`docker run printed ${JSON.stringify(stdout)}, not "job"`);
  return now() - t0;
}

/**
 * Rounds of `parallel` concurrent `docker run --rm <image> sh -c 'echo job'` (after one warm-up
 * run), run in parts (before and after berth, so drift hits both): the median run, the summed
 * wall time of the rounds, the sum-based figure (wall x parallel / runs), and the medians of
 * the engine's create -> start, start -> exit and exit -> removed.
 */
export function dockerBaseline({ image, label, parallel, now }) {
  const times = [];
  let wallMs = 0;
  let events = null;
  return {
    async rounds(count) {
      if (!events) {
        await dockerRun(image, label, now);
        events = startEventLog(label, byContainer, Date.now()); // `docker run --rm` returns after the removal
      }
      for (let r = 0; r < count; r++) {
        const t0 = now();
        times.push(...(await Promise.all(Array.from({ length: parallel }, () => dockerRun(image, label, now)))));
        wallMs += now() - t0;
      }
    },
    async result() {
      await new Promise((resolve) => setTimeout(resolve, 500)); // the last events
      events?.stop();
      const step = (from, to) => median([...(events?.byJob().values() ?? [])].map((c) => c[to] - c[from]).filter(Number.isFinite));
      return {
        runs: times.length,
        perRunMs: median(times),
        wallMs,
        sumBasedMs: (wallMs * parallel) / times.length,
        engine: { createToStartMs: step('create', 'start'), startToDieMs: step('start', 'die'), dieToDestroyMs: step('die', 'destroy') },
      };
    },
  };
}

/** berth's build containers, by job id. */
export const byBerthJob = (e) => (e.Actor?.Attributes?.['berth.type'] === 'build' ? Number(e.Actor.Attributes['berth.job.id']) : null);
/** Every container, by id. */
export const byContainer = (e) => e.id ?? null;

/**
 * Streams the engine's container events for `label` from `sinceMs` (the engine replays what
 * happened since, so nothing is missed while the stream connects). byJob(): per key(event)
 * (null: ignored), the epoch ms of each action of the container (first create/extract-to-dir/
 * start, last die/destroy).
 */
export function startEventLog(label, key = byBerthJob, sinceMs = Date.now() - 1000) {
  const since = (sinceMs / 1000).toFixed(3);
  const child = spawn(DOCKER, ['events', '--since', since, '--filter', `label=${label}`, '--filter', 'type=container', '--format', '{{json .}}'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const jobs = new Map();
  createInterface({ input: child.stdout }).on('line', (line) => {
    let e;
    try {
      e = JSON.parse(line);
    } catch {
      return;
    }
    const id = key(e);
    if (id === null) return;
    const at = Number(e.timeNano) / 1e6;
    const action = String(e.Action).split(':')[0];
    const rec = jobs.get(id) ?? {};
    if (action === 'die' || action === 'destroy' || rec[action] === undefined) rec[action] = at;
    jobs.set(id, rec);
  });
  return {
    byJob: () => jobs,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}

/** Containers, networks and volumes that carry `label`. */
export async function leftovers(label) {
  const list = async (kind, args) => {
    const { stdout } = await run(DOCKER, [...args, '--filter', `label=${label}`, '--format', kind === 'container' ? '{{.Names}}' : '{{.Name}}']);
    return stdout.split('\n').filter(Boolean).map((name) => ({ kind, name }));
  };
  return [
    ...(await list('container', ['ps', '-a'])),
    ...(await list('network', ['network', 'ls'])),
    ...(await list('volume', ['volume', 'ls'])),
  ];
}

/** Removes what leftovers() found (the bench's own objects only: they carry its labels). */
export async function removeLeftovers(objects) {
  for (const o of objects) {
    const args = o.kind === 'container' ? ['rm', '-f', o.name] : [o.kind, 'rm', o.name];
    await run(DOCKER, args).catch(() => undefined);
  }
}
