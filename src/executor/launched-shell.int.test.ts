/**
 * LaunchedShell and runStage with a shell started before the stage's turn, on the real engine:
 * output the container writes before the script is kept and comes first in the stage's log; the
 * script written later runs in the same container; a shell no stage takes is disposed of without
 * a hanging wait.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../engine/dockerode-engine.js';
import { scriptMarkers } from '../job/script-builder.js';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { JobLog } from '../log/job-log.js';
import { findLeftovers, NO_LEFTOVERS } from '../../test/support/leftovers.js';
import { testRunLabel } from '../../test/support/job-fixtures.js';
import { LaunchedShell } from './launched-shell.js';
import { runStage } from './stage-runner.js';

const engine = new DockerodeEngine();
const run = testRunLabel();
const IMAGE = 'berth-test/busybox:latest';

async function container(cmd: string[]): Promise<string> {
  return engine.createContainer({ name: `berth-test-launched-${run.value}-${Math.random().toString(16).slice(2, 8)}`, image: IMAGE, cmd, openStdin: true, labels: run.labels });
}

async function removeAll(): Promise<void> {
  for (const c of await engine.listContainers([run.filter])) await engine.removeContainer(c.id, { force: true });
}

afterEach(async () => {
  await removeAll();
  expect(await findLeftovers(engine, run.filter)).toEqual(NO_LEFTOVERS);
});

afterAll(removeAll);

describe('LaunchedShell', () => {
  it('keeps what the container writes before the script and gives it to the stage first; the script then runs in that shell', async () => {
    const id = await container(['sh', '-c', 'echo before-the-script; echo on-stderr >&2; exec sh']);
    const launched = LaunchedShell.launch(engine, id);
    await launched;
    expect((await engine.inspectContainer(id))!.state.status).toBe('running');
    // Let the early output arrive before anyone takes the shell.
    await new Promise((r) => setTimeout(r, 300));

    const sink = new MemoryByteWriter();
    const log = new JobLog(sink, { traceSections: false });
    const markers = scriptMarkers('l4unch');
    const script = { text: `printf '${markers.start}'; echo in-the-script; printf '${markers.exitPrefix}000${markers.exitSuffix}'\n`, markers };
    const outcome = await runStage(engine, id, script, log, new AbortController().signal, undefined, launched);
    log.end();
    expect(outcome).toMatchObject({ exitCode: 0, scriptStarted: true, stopped: false });
    expect(sink.text).toContain('on-stderr');
    expect(sink.text.indexOf('before-the-script')).toBeGreaterThanOrEqual(0);
    expect(sink.text.indexOf('before-the-script')).toBeLessThan(sink.text.indexOf('in-the-script'));
  });

  it('a shell no stage takes: dispose ends the wait and the connection; the container is removed with nothing left', async () => {
    const id = await container(['sh', '-c', 'exec sh']);
    const shell = await LaunchedShell.launch(engine, id);
    shell.dispose();
    await engine.removeContainer(id, { force: true });
    await expect(Promise.race([shell.exited.then(() => 'settled', () => 'settled'), new Promise((r) => setTimeout(() => r('hung'), 5_000))])).resolves.toBe('settled');
  });

  it('a container that cannot start: launch rejects with the engine error and leaves the attach closed', async () => {
    const id = await engine.createContainer({ name: `berth-test-launched-${run.value}-nocmd`, image: IMAGE, cmd: ['/no/such/program'], openStdin: true, labels: run.labels });
    await expect(LaunchedShell.launch(engine, id)).rejects.toThrow(/no\/such\/program|no such file|not found/i);
  });
});
