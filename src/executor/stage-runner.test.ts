/**
 * The stage runner on the fake engine: output into the log without markers, the script on
 * stdin, the exit status from the marker or the container, and the stop sequence on abort
 * (kill script → docker stop → kill). The real engine: docker-executor.int.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { FakeEngine, type ContainerRun } from '../../test/support/fake-engine.js';
import { EngineError } from '../engine/engine-error.js';
import { scriptMarkers, type StageScript } from '../job/script-builder.js';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { JobLog } from '../log/job-log.js';
import { runStage, type StopTimings } from './stage-runner.js';

const TIMINGS: StopTimings = { termScriptMs: 1_000, stopGraceSeconds: 1 };
const script: StageScript = { text: 'echo hello\n', markers: scriptMarkers('n0nce') };
const started = script.markers.start;
const exitMarker = (status: number): string => `${script.markers.exitPrefix}${String(status).padStart(3, '0')}${script.markers.exitSuffix}`;

async function setup(onRun: (run: ContainerRun) => Promise<number> | number) {
  const engine = new FakeEngine();
  engine.addImage('img');
  engine.onRun = onRun;
  const id = await engine.createContainer({ name: 'build', image: 'img' });
  const sink = new MemoryByteWriter();
  const log = new JobLog(sink, { traceSections: false });
  return { engine, id, log, text: () => sink.text };
}

/** A promise and its resolver, to hold a fake process at a point. */
function latch(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

describe('runStage', () => {
  it('writes the script to stdin and streams stdout and stderr into the log without markers', async () => {
    let stdin = '';
    const { engine, id, log, text } = await setup((run) => {
      stdin = run.stdin;
      run.stdout(`${started}hello\n`);
      run.stderr('warn\n');
      run.stdout(exitMarker(0));
      return 0;
    });
    const outcome = await runStage(engine, id, script, log, new AbortController().signal, TIMINGS);
    expect(outcome).toMatchObject({ exitCode: 0, scriptStarted: true, scriptExitStatus: 0, stopped: false });
    expect(stdin).toBe(script.text);
    expect(text()).toContain('hello\n');
    expect(text()).toContain('warn\n');
    expect(text()).not.toContain('berth-n0nce');
    expect(engine.containers.get(id)?.running).toBe(false);
  });

  it('returns the script\'s exit status from its marker before the engine reports the stop; `exited` waits for it', async () => {
    const stop = latch();
    const { engine, id, log } = await setup(async (run) => {
      run.stdout(`${started}${exitMarker(4)}`);
      run.endOutput();
      await stop.promise;
      return 4;
    });
    const outcome = await runStage(engine, id, script, log, new AbortController().signal, TIMINGS);
    expect(outcome).toMatchObject({ exitCode: 4, scriptExitStatus: 4, stopped: false });
    expect(engine.containers.get(id)?.running).toBe(true);
    let exited = false;
    void outcome.exited.then(() => (exited = true));
    await new Promise((r) => setImmediate(r));
    expect(exited).toBe(false);
    stop.open();
    await outcome.exited;
    expect(engine.containers.get(id)?.running).toBe(false);
  });

  it('without markers (the script never ran) the container\'s exit code is the result', async () => {
    const { engine, id, log } = await setup((run) => {
      run.stderr('exec: "sh": executable file not found\n');
      return 127;
    });
    const outcome = await runStage(engine, id, script, log, new AbortController().signal, TIMINGS);
    expect(outcome).toMatchObject({ exitCode: 127, scriptStarted: false, scriptExitStatus: null, stopped: false });
  });

  it('on abort, SIGTERMs the script with the kill script and stops the container: stopped, with its exit code', async () => {
    const abort = new AbortController();
    const { engine, id, log, text } = await setup(async (run) => {
      run.stdout(`${started}working\n`);
      await new Promise((r) => run.terminated.addEventListener('abort', r));
      run.stdout('got SIGTERM\n');
      return 143;
    });
    const outcome = runStage(engine, id, script, log, abort.signal, TIMINGS);
    await until(() => engine.containers.get(id)?.output.includes('working') ?? false);
    abort.abort();
    expect(await outcome).toMatchObject({ exitCode: 143, stopped: true, scriptStarted: true, scriptExitStatus: null });
    expect(engine.callsOf('execInContainer')[0]?.[1]).toEqual(['sh', '-c', expect.stringContaining('kill -TERM')]);
    expect(engine.callsOf('stopContainer')).toEqual([[id, 1]]);
    expect(text()).toContain('got SIGTERM');
  });

  it('a script that ignores SIGTERM is stopped by docker stop', async () => {
    const abort = new AbortController();
    const { engine, id, log } = await setup(() => new Promise<number>(() => undefined));
    const outcome = runStage(engine, id, script, log, abort.signal, TIMINGS);
    await until(() => engine.containers.get(id)?.running ?? false);
    abort.abort();
    expect(await outcome).toMatchObject({ exitCode: 143, stopped: true });
    expect(engine.containers.get(id)?.running).toBe(false);
  });

  it('when the kill script cannot run and docker stop fails, the container is killed', async () => {
    const abort = new AbortController();
    const { engine, id, log } = await setup(() => new Promise<number>(() => undefined));
    engine.fail('execInContainer', new EngineError('exec', 500, 'no sh in the image'));
    engine.fail('stopContainer', new EngineError('stop', 500, 'stop timed out'));
    const outcome = runStage(engine, id, script, log, abort.signal, TIMINGS);
    await until(() => engine.containers.get(id)?.running ?? false);
    abort.abort();
    expect(await outcome).toMatchObject({ exitCode: 137, stopped: true });
    const stopCalls = new Set(['execInContainer', 'stopContainer', 'killContainer']);
    expect(engine.calls.map((c) => c.op).filter((op) => stopCalls.has(op))).toEqual([
      'execInContainer',
      'stopContainer',
      'killContainer',
    ]);
  });

  it('a signal aborted before the start stops the stage at once', async () => {
    const abort = new AbortController();
    abort.abort();
    const { engine, id, log } = await setup(() => new Promise<number>(() => undefined));
    expect(await runStage(engine, id, script, log, abort.signal, TIMINGS)).toMatchObject({ stopped: true });
  });

  it('a start the engine refuses rejects, and the attachment is closed', async () => {
    const { engine, id, log } = await setup(() => 0);
    engine.fail('startContainer', new EngineError('start', 500, 'OCI runtime create failed'));
    await expect(runStage(engine, id, script, log, new AbortController().signal, TIMINGS)).rejects.toThrow('OCI runtime create failed');
  });
});

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!cond()) throw new Error('condition not met in time');
}
