import { describe, expect, it } from 'vitest';
import { CoalescedRun } from './coalesced-run.js';

/** A work function whose runs the test ends one by one, recording when each started. */
function controlledWork() {
  const runs: { resolve: () => void; reject: (err: Error) => void; startedAfter: string[] }[] = [];
  const events: string[] = [];
  const work = () =>
    new Promise<void>((resolve, reject) => {
      runs.push({ resolve, reject, startedAfter: [...events] });
    });
  return { runs, events, work };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('CoalescedRun', () => {
  it('runs once for a lone caller, and again for the next one', async () => {
    const { runs, work } = controlledWork();
    const c = new CoalescedRun(work);
    const first = c.run();
    expect(runs).toHaveLength(1);
    runs[0]!.resolve();
    await first;
    const second = c.run();
    expect(runs).toHaveLength(2);
    runs[1]!.resolve();
    await second;
  });

  it('gives callers that arrive during a run one shared run that starts after it', async () => {
    const { runs, events, work } = controlledWork();
    const c = new CoalescedRun(work);
    const done: string[] = [];
    const a = c.run().then(() => done.push('a'));
    events.push('b asked');
    const b = c.run().then(() => done.push('b'));
    const d = c.run().then(() => done.push('d'));
    await tick();
    expect(runs).toHaveLength(1); // b and d wait: the run going may have missed their units
    runs[0]!.resolve();
    await a;
    await tick();
    expect(done).toEqual(['a']);
    expect(runs).toHaveLength(2);
    expect(runs[1]!.startedAfter).toContain('b asked');
    runs[1]!.resolve();
    await Promise.all([b, d]);
    expect(done).toEqual(['a', 'b', 'd']);
    expect(runs).toHaveLength(2);
  });

  it('fails every caller that shared a failed run, and starts afresh after it', async () => {
    const { runs, work } = controlledWork();
    const c = new CoalescedRun(work);
    const a = c.run();
    const b = c.run();
    const d = c.run();
    runs[0]!.reject(new Error('first'));
    await expect(a).rejects.toThrow('first');
    await tick();
    runs[1]!.reject(new Error('second'));
    await expect(b).rejects.toThrow('second');
    await expect(d).rejects.toThrow('second');
    const e = c.run();
    expect(runs).toHaveLength(3);
    runs[2]!.resolve();
    await e;
  });

  it('queues behind a run that is going even when the caller came after a queued run started', async () => {
    const { runs, work } = controlledWork();
    const c = new CoalescedRun(work);
    void c.run();
    const b = c.run();
    runs[0]!.resolve();
    await tick();
    expect(runs).toHaveLength(2); // b's run is going now
    const late = c.run();
    runs[1]!.resolve();
    await b;
    await tick();
    expect(runs).toHaveLength(3); // late did not share b's run, which started before it asked
    runs[2]!.resolve();
    await late;
  });
});
