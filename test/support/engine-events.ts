/**
 * The engine's events for a test's label between two moments (the engine replays them; the
 * stream ends at `untilMs`), as "Type Action" strings, e.g. "container extract-to-dir" (an
 * archive PUT), "container start".
 */
import Docker from 'dockerode';

export async function engineActions(labelFilter: string, sinceMs: number, untilMs: number): Promise<string[]> {
  const docker = new Docker();
  const stream = await docker.getEvents({ since: Math.floor(sinceMs / 1000), until: Math.ceil(untilMs / 1000), filters: { label: [labelFilter] } });
  const actions: string[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      const e = JSON.parse(line) as { Type: string; Action: string };
      actions.push(`${e.Type} ${e.Action.split(':')[0]}`);
    }
  }
  return actions;
}
