import { describe, expect, it } from 'vitest';
import { decideRestart, historyWhenAlive, NO_RESTARTS, RESTART_LIMITS } from './restart-policy.js';

const S = 1000;

describe('decideRestart', () => {
  it('restarts at once in SINGLE (no grace), and not before the grace in ACTIVE_STANDBY', () => {
    expect(decideRestart(NO_RESTARTS, { firstSeen: 0, now: 10 * S, graceMs: 0 })).toEqual({ action: 'restart' });
    expect(decideRestart(NO_RESTARTS, { firstSeen: 0, now: 10 * S, graceMs: 29 * S })).toEqual({ action: 'wait', until: 29 * S });
    expect(decideRestart(NO_RESTARTS, { firstSeen: 0, now: 30 * S, graceMs: 29 * S })).toEqual({ action: 'restart' });
  });

  it('doubles the wait after each restart, then gives up at the cap, then does nothing', () => {
    const dead = (now: number) => ({ firstSeen: 0, now, graceMs: 0 });
    expect(decideRestart({ restarts: 1, lastAt: 100 * S, gaveUp: false }, dead(120 * S))).toEqual({ action: 'wait', until: 130 * S });
    expect(decideRestart({ restarts: 2, lastAt: 100 * S, gaveUp: false }, dead(150 * S))).toEqual({ action: 'wait', until: 160 * S });
    expect(decideRestart({ restarts: 2, lastAt: 100 * S, gaveUp: false }, dead(160 * S))).toEqual({ action: 'restart' });
    expect(decideRestart({ restarts: RESTART_LIMITS.maxRestarts, lastAt: 100 * S, gaveUp: false }, dead(1000 * S))).toEqual({ action: 'give-up' });
    expect(decideRestart({ restarts: RESTART_LIMITS.maxRestarts, lastAt: 100 * S, gaveUp: true }, dead(1000 * S))).toEqual({ action: 'none' });
  });
});

describe('historyWhenAlive', () => {
  it('clears the count once the daemon stayed up for stableMs, or when someone started it after a give-up', () => {
    const h = { restarts: 2, lastAt: 0, gaveUp: false };
    expect(historyWhenAlive(h, RESTART_LIMITS.stableMs - 1)).toBe(h);
    expect(historyWhenAlive(h, RESTART_LIMITS.stableMs)).toEqual(NO_RESTARTS);
    expect(historyWhenAlive({ ...h, gaveUp: true }, 1)).toEqual(NO_RESTARTS);
  });
});
