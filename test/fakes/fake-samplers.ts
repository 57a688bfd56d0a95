/**
 * @module test/fakes/fake-samplers
 * An LvsSampler and a HaproxySampler that return what the test set, count their calls and can be
 * made to fail, for the heartbeat's tests (the real ones read IPVS and haproxy's stats socket).
 */
import type { HaproxyLoadBalancerSample, HaproxySampler, LvsListenerSample, LvsSampler } from '../../src/services/telemetry/samples.js';

export class FakeSamplers {
  lvsSamples: LvsListenerSample[] = [];
  haproxySamples: HaproxyLoadBalancerSample[] = [];
  calls = 0;
  /** The error the next samples fail with (undefined: they succeed). */
  failWith: Error | undefined;

  readonly lvs: LvsSampler = { sample: async () => this.answer(this.lvsSamples) };
  readonly haproxy: HaproxySampler = { sample: async () => this.answer(this.haproxySamples) };

  private answer<T>(samples: T[]): T[] {
    this.calls++;
    if (this.failWith) throw this.failWith;
    return structuredClone(samples);
  }
}
