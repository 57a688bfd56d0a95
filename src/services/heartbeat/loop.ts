/**
 * @module services/heartbeat/loop
 * When heartbeats happen: the first right at start, then each `heartbeat_interval` seconds after
 * the previous one ended, so that two never run at once and a slow one delays the next instead of
 * piling up. A new interval, controller list or key (PUT /1.0/config) applies at once: the wait
 * is recomputed from the end of the last heartbeat with the new interval, and the next heartbeat
 * reads the list and key live (the reference's sender needs a restart for that).
 *
 * A timer, not a node-cron job (the jobs of src/jobs/): any interval must work, 7 s included,
 * which a cron expression cannot express evenly (it restarts counting at each minute), and a new
 * interval must reschedule at once, not at the next cron tick.
 */
import type { AgentConfig } from '../../config/schema.js';
import type { Logger } from '../../log.js';
import type { BeatOutcome } from './beat.js';

/** Runs `run` once after `ms`; returns what cancels it. */
export type ScheduleOnce = (run: () => void, ms: number) => () => void;

export interface HeartbeatLoopDeps {
  /** One heartbeat; never throws (beat.ts). */
  readonly beat: () => Promise<BeatOutcome>;
  /** Runs once, before the first heartbeat (loads the stored counters). */
  readonly prepare: () => Promise<void>;
  /** Seconds between the end of one heartbeat and the start of the next (read live). */
  readonly intervalSeconds: () => number;
  readonly log: Logger;
  /** Defaults to an unref'd setTimeout. */
  readonly schedule?: ScheduleOnce;
  /** A monotonic clock in ms; defaults to performance.now. */
  readonly now?: () => number;
}

const realSchedule: ScheduleOnce = (run, ms) => {
  const timer = setTimeout(run, ms);
  // the agent's server keeps the process alive; the heartbeat alone must not
  timer.unref();
  return () => clearTimeout(timer);
};

/** The options that change the heartbeat; `amphora_id` is among them since it is in every message. */
export function heartbeatSettingsChanged(next: AgentConfig, previous: AgentConfig): boolean {
  const a = previous.health_manager;
  const b = next.health_manager;
  return (
    a.heartbeat_interval !== b.heartbeat_interval ||
    a.heartbeat_key !== b.heartbeat_key ||
    a.controller_ip_port_list.join(',') !== b.controller_ip_port_list.join(',') ||
    previous.amphora_agent.amphora_id !== next.amphora_agent.amphora_id
  );
}

export class HeartbeatLoop {
  private running = false;
  private prepared = false;
  private inFlight: Promise<void> | undefined;
  private cancel: (() => void) | undefined;
  private lastEnded = 0;
  private readonly schedule: ScheduleOnce;
  private readonly now: () => number;

  constructor(private readonly deps: HeartbeatLoopDeps) {
    this.schedule = deps.schedule ?? realSchedule;
    this.now = deps.now ?? (() => performance.now());
  }

  /** Starts the loop: the first heartbeat now. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.deps.log.info({ intervalSeconds: this.deps.intervalSeconds() }, 'heartbeat sender starting');
    this.fire();
  }

  /** Stops the loop; resolves once a heartbeat under way has ended. */
  async stop(): Promise<void> {
    this.running = false;
    this.cancel?.();
    this.cancel = undefined;
    await this.inFlight;
  }

  /** PUT /1.0/config changed the heartbeat's options: a waiting loop waits for the new interval instead. */
  settingsChanged(): void {
    this.deps.log.info({ intervalSeconds: this.deps.intervalSeconds() }, 'heartbeat settings changed');
    if (!this.running || this.cancel === undefined) return; // a heartbeat under way schedules the next itself
    this.cancel();
    this.scheduleNext();
  }

  /** Resolves when no heartbeat is under way (tests). */
  async idle(): Promise<void> {
    await this.inFlight;
  }

  private fire(): void {
    this.cancel = undefined;
    this.inFlight = this.once().finally(() => {
      this.inFlight = undefined;
      this.lastEnded = this.now();
      if (this.running) this.scheduleNext();
    });
  }

  private async once(): Promise<void> {
    if (!this.prepared) {
      try {
        await this.deps.prepare();
      } catch (err) {
        this.deps.log.warn({ err }, 'cannot prepare the heartbeat; counting starts afresh');
      }
      this.prepared = true;
    }
    await this.deps.beat();
  }

  private scheduleNext(): void {
    const wait = Math.max(0, this.lastEnded + this.deps.intervalSeconds() * 1000 - this.now());
    this.cancel = this.schedule(() => this.fire(), wait);
  }
}
