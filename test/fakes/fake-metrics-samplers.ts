/**
 * @module test/fakes/fake-metrics-samplers
 * LvsSampler, HaproxySampler and the daemon liveness source with scripted samples, for the
 * metrics collectors' unit tests: each counts its looks, can be made to fail, and can be held
 * (a look that stays pending until the test lets it go).
 */
import type { DaemonLiveness } from '../../src/services/metrics/daemon-liveness.js';
import type { HaproxyLoadBalancerSample, HaproxySampler, LvsListenerSample, LvsSampler } from '../../src/services/telemetry/samples.js';

export class ScriptedSampler<T> {
  /** How many times `sample()` was called. */
  looks = 0;
  private failure: Error | null = null;
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;

  constructor(public samples: T[] = []) {}

  async sample(): Promise<T[]> {
    this.looks++;
    if (this.gate !== null) await this.gate;
    if (this.failure !== null) throw this.failure;
    return structuredClone(this.samples);
  }

  /** The next looks throw `err` (null: they succeed again). */
  failWith(err: Error | null): this {
    this.failure = err;
    return this;
  }

  /** Looks from now on wait until `release()`. */
  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open?.();
    this.gate = null;
  }
}

export class FakeLvsSampler extends ScriptedSampler<LvsListenerSample> implements LvsSampler {}
export class FakeHaproxySampler extends ScriptedSampler<HaproxyLoadBalancerSample> implements HaproxySampler {}
export class FakeDaemonLiveness extends ScriptedSampler<DaemonLiveness> {}
