import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { GuardedJob, Scheduler, type Job } from './scheduler.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

/** A job whose runs end when the test says so. */
function gatedJob(name = 'gated') {
  const releases: (() => void)[] = [];
  let started = 0;
  const job: Job = {
    name,
    schedule: '* * * * * *',
    run: () =>
      new Promise<void>((resolve) => {
        started++;
        releases.push(resolve);
      }),
  };
  return { job, releases, started: () => started };
}

describe('GuardedJob.tick (the overlap guard, without cron)', () => {
  it('skips a tick while the previous run of the job is still going, logs it at debug and counts it', async () => {
    const { log, lines } = capture();
    const g = gatedJob();
    const guarded = new GuardedJob(g.job, log);
    const first = guarded.tick();
    await guarded.tick();
    await guarded.tick();
    expect(g.started()).toBe(1);
    expect(guarded.counters).toEqual({ runs: 1, failures: 0, skipped: 2, missed: 0 });
    const skips = lines.filter((l) => l['msg'] === 'previous run still going: tick skipped');
    expect(skips.map((l) => [l['level'], l['job']])).toEqual([
      [20, 'gated'],
      [20, 'gated'],
    ]);
    g.releases[0]?.();
    await first;
    // the run is over: the next tick runs again
    const second = guarded.tick();
    expect(g.started()).toBe(2);
    g.releases[1]?.();
    await second;
    expect(guarded.counters).toEqual({ runs: 2, failures: 0, skipped: 2, missed: 0 });
  });

  it('logs a failed run at error and counts it, and the next tick runs', async () => {
    const { log, lines } = capture();
    let calls = 0;
    const guarded = new GuardedJob(
      {
        name: 'flaky',
        schedule: '* * * * * *',
        run: async () => {
          calls++;
          if (calls === 1) throw new Error('disk full');
        },
      },
      log,
    );
    await expect(guarded.tick()).resolves.toBeUndefined();
    await guarded.tick();
    expect(calls).toBe(2);
    expect(guarded.counters).toEqual({ runs: 2, failures: 1, skipped: 0, missed: 0 });
    const failed = lines.filter((l) => l['msg'] === 'scheduled job failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.['level']).toBe(50);
    expect((failed[0]?.['err'] as { message: string }).message).toBe('disk full');
  });

  it('idle() resolves only once the running job has finished', async () => {
    const g = gatedJob();
    const guarded = new GuardedJob(g.job, capture().log);
    void guarded.tick();
    let idle = false;
    const waiting = guarded.idle().then(() => (idle = true));
    await new Promise((r) => setImmediate(r));
    expect(idle).toBe(false);
    g.releases[0]?.();
    await waiting;
    expect(idle).toBe(true);
  });
});

describe('Scheduler', () => {
  it('refuses a job with an invalid cron expression before anything runs', () => {
    expect(() => new Scheduler([{ name: 'bad', schedule: '61 * * * * *', run: async () => {} }], capture().log)).toThrow(/job bad: invalid cron expression/);
  });

  it('fires a job on a seconds-granularity expression, and stop() waits for the run under way', async () => {
    const { log } = capture();
    const g = gatedJob('every-second');
    const scheduler = new Scheduler([g.job], log);
    scheduler.start();
    try {
      // generous: a busy machine may fire late; the schedule says every second
      await vi.waitFor(() => expect(g.started()).toBeGreaterThanOrEqual(1), { timeout: 20_000, interval: 50 });
    } finally {
      let stopped = false;
      const stopping = scheduler.stop().then(() => (stopped = true));
      await new Promise((r) => setTimeout(r, 50));
      // the first run is still going (gated): stop() must not have returned
      expect(stopped).toBe(false);
      for (const release of g.releases) release();
      await stopping;
    }
    const counters = scheduler.counters()['every-second'];
    expect(counters?.runs).toBe(1);
    // no new run starts after stop()
    const runs = g.started();
    await new Promise((r) => setTimeout(r, 1500));
    expect(g.started()).toBe(runs);
  });
});
