/**
 * @module jobs/scheduler
 * Runs the agent's periodic jobs on node-cron: the only module that imports it (the
 * dependency-cruiser rule `node-cron-only-in-scheduler`). Each job is a plain async function
 * with a name and a cron expression (six fields allowed: seconds first). The guard around it
 * (`GuardedJob.tick`, tested without cron) skips a tick while the previous run of the same job
 * is still going (logged at debug and counted), logs a failed run and carries on; `stop()` ends
 * the schedule and waits for the runs under way, so that shutdown does not cut a rotation in half.
 * Must not: know what the jobs do (jobs/index.ts builds them).
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../log.js';

export interface Job {
  readonly name: string;
  /** A cron expression; with six fields the first is the second. */
  readonly schedule: string;
  run(): Promise<void>;
}

/** What a job has done since the agent started (for logs and metrics). */
export interface JobCounters {
  readonly runs: number;
  readonly failures: number;
  /** Ticks that found the previous run still going. */
  readonly skipped: number;
  /** Ticks node-cron fired late or not at all (a blocked event loop). */
  readonly missed: number;
}

/** One job with its overlap guard and counters; `tick` is what the schedule calls. */
export class GuardedJob {
  private running: Promise<void> | undefined;
  private counts = { runs: 0, failures: 0, skipped: 0, missed: 0 };

  constructor(
    readonly job: Job,
    private readonly log: Logger,
  ) {}

  /**
   * Starts a run unless one is going; resolves when the run it started ends (at once when it
   * skipped). Never rejects: a failure is logged and counted.
   */
  tick(): Promise<void> {
    if (this.running !== undefined) {
      this.counts.skipped++;
      this.log.debug({ job: this.job.name, skipped: this.counts.skipped }, 'previous run still going: tick skipped');
      return Promise.resolve();
    }
    this.counts.runs++;
    const run = this.runOnce().finally(() => (this.running = undefined));
    this.running = run;
    return run;
  }

  private async runOnce(): Promise<void> {
    try {
      await this.job.run();
    } catch (err) {
      this.counts.failures++;
      this.log.error({ err, job: this.job.name }, 'scheduled job failed');
    }
  }

  missed(): void {
    this.counts.missed++;
    this.log.debug({ job: this.job.name }, 'tick missed (event loop busy)');
  }

  /** Resolves once no run is going. */
  async idle(): Promise<void> {
    await this.running;
  }

  get counters(): JobCounters {
    return { ...this.counts };
  }
}

/** node-cron's own messages (a missed tick, a task error it caught), into the agent's log. */
function cronLogger(log: Logger) {
  const text = (m: string | Error) => (m instanceof Error ? m.message : m);
  return {
    info: (m: string) => log.debug(m),
    warn: (m: string) => log.warn(m),
    error: (m: string | Error, err?: Error) => log.error({ err: err ?? (m instanceof Error ? m : undefined) }, text(m)),
    debug: (m: string | Error) => log.debug(text(m)),
  };
}

export class Scheduler {
  private readonly guarded: GuardedJob[];
  private tasks: ScheduledTask[] = [];

  /** Refuses a job with an expression node-cron does not accept, before anything runs. */
  constructor(
    jobs: readonly Job[],
    private readonly log: Logger,
  ) {
    for (const job of jobs) {
      if (!cron.validate(job.schedule)) throw new Error(`job ${job.name}: invalid cron expression ${JSON.stringify(job.schedule)}`);
    }
    this.guarded = jobs.map((job) => new GuardedJob(job, log));
  }

  start(): void {
    if (this.tasks.length > 0) return;
    this.tasks = this.guarded.map((g) => {
      // unref: the schedule alone does not keep the process alive (the server does)
      const task = cron.schedule(g.job.schedule, () => void g.tick(), { name: g.job.name, unref: true, logger: cronLogger(this.log) });
      task.on('execution:missed', () => g.missed());
      return task;
    });
    this.log.info({ jobs: this.guarded.map((g) => ({ name: g.job.name, schedule: g.job.schedule })) }, 'scheduled jobs started');
  }

  /** Ends the schedule, then waits for the runs under way. */
  async stop(): Promise<void> {
    const tasks = this.tasks;
    this.tasks = [];
    await Promise.all(tasks.map(async (t) => t.destroy()));
    await Promise.all(this.guarded.map((g) => g.idle()));
  }

  counters(): Record<string, JobCounters> {
    return Object.fromEntries(this.guarded.map((g) => [g.job.name, g.counters]));
  }
}
