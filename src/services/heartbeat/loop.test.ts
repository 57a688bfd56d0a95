import { describe, expect, it } from 'vitest';
import { captureLogger } from '../../../test/support/agent-process.js';
import type { BeatOutcome } from './beat.js';
import { HeartbeatLoop, type ScheduleOnce } from './loop.js';

/** A clock and a timer the test moves by hand: nothing here depends on real time. */
class ManualTime {
  now = 1000;
  pending: { run: () => void; at: number; cancelled: boolean }[] = [];
  readonly schedule: ScheduleOnce = (run, ms) => {
    const entry = { run, at: this.now + ms, cancelled: false };
    this.pending.push(entry);
    return () => void (entry.cancelled = true);
  };
  /** The one timer that is set (cancelled ones left out). */
  get armed() {
    const live = this.pending.filter((p) => !p.cancelled);
    return live.length === 1 ? live[0] : live.length === 0 ? undefined : expect.fail(`${live.length} timers armed`);
  }
  /** Moves to the armed timer's time and runs it. */
  fire(): void {
    const t = this.armed ?? expect.fail('no timer armed');
    this.now = Math.max(this.now, t.at);
    t.cancelled = true;
    t.run();
  }
}

/** A beat the test ends when it wants. */
class Beats {
  started = 0;
  private ends: (() => void)[] = [];
  readonly beat = (): Promise<BeatOutcome> => {
    this.started++;
    return new Promise((resolve) => this.ends.push(() => resolve('sent')));
  };
  end(): void {
    this.ends.shift()?.();
  }
}

function loop(interval = { s: 10 }, prepare: () => Promise<void> = async () => {}) {
  const time = new ManualTime();
  const beats = new Beats();
  const { log, lines } = captureLogger();
  const l = new HeartbeatLoop({ beat: beats.beat, prepare, intervalSeconds: () => interval.s, log, schedule: time.schedule, now: () => time.now });
  return { l, time, beats, lines, interval };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('HeartbeatLoop', () => {
  it('beats at once at start, then the interval after the previous heartbeat ended', async () => {
    const { l, time, beats } = loop();
    l.start();
    await settle();
    expect(beats.started).toBe(1);
    expect(time.armed).toBeUndefined(); // nothing is scheduled while a heartbeat runs
    time.now += 2500; // a slow heartbeat
    beats.end();
    await l.idle();
    expect(time.armed?.at).toBe(1000 + 2500 + 10_000);
    time.fire();
    await settle();
    expect(beats.started).toBe(2);
    beats.end();
    await l.stop();
  });

  it('never runs two heartbeats at once: a slow one delays the next instead of piling up', async () => {
    const { l, time, beats } = loop({ s: 1 });
    l.start();
    await settle();
    time.now += 60_000; // sixty intervals pass during one heartbeat
    await settle();
    expect(beats.started).toBe(1);
    beats.end();
    await l.idle();
    expect(time.armed?.at).toBe(time.now + 1000);
    await l.stop();
  });

  it('a new interval reschedules a waiting loop at once, counted from the end of the last heartbeat', async () => {
    const { l, time, beats, interval } = loop({ s: 60 });
    l.start();
    await settle();
    beats.end();
    await l.idle();
    expect(time.armed?.at).toBe(1000 + 60_000);
    time.now += 3000;
    interval.s = 7;
    l.settingsChanged();
    expect(time.armed?.at).toBe(1000 + 7000);
    // shorter than what has passed already: the next heartbeat is due now
    interval.s = 2;
    l.settingsChanged();
    expect(time.armed?.at).toBe(time.now);
    await l.stop();
  });

  it('a change during a heartbeat applies when it ends', async () => {
    const { l, time, beats, interval } = loop({ s: 60 });
    l.start();
    await settle();
    interval.s = 5;
    l.settingsChanged();
    expect(time.armed).toBeUndefined();
    beats.end();
    await l.idle();
    expect(time.armed?.at).toBe(time.now + 5000);
    await l.stop();
  });

  it('stop cancels the timer and waits for a heartbeat under way', async () => {
    const { l, time, beats } = loop();
    l.start();
    await settle();
    let stopped = false;
    const stopping = l.stop().then(() => void (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    beats.end();
    await stopping;
    expect(time.armed).toBeUndefined();
  });

  it('prepares once, before the first heartbeat; a failed preparation is logged and the heartbeats go on', async () => {
    let prepared = 0;
    const { l, time, beats, lines } = loop({ s: 10 }, async () => {
      prepared++;
      throw new Error('EACCES');
    });
    l.start();
    await settle();
    beats.end();
    await l.idle();
    time.fire();
    await settle();
    beats.end();
    await l.idle();
    expect(prepared).toBe(1);
    expect(beats.started).toBe(2);
    expect(lines.filter((x) => x['level'] === 40)).toHaveLength(1);
    await l.stop();
  });
});
