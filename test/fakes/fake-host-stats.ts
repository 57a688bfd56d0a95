/**
 * @module test/fakes/fake-host-stats
 * A HostStats with fixed figures, for API tests that check the shape of /details.
 */
import type { HostStats, InterfaceCounters } from '../../src/system/host-stats.js';

export class FakeHostStats implements HostStats {
  readonly netnsAsked: string[] = [];
  constructor(private readonly interfaces: InterfaceCounters = {}) {}
  hostname() {
    return 'amphora-test';
  }
  async cpu() {
    return { total: 1000, user: 100, system: 50, soft_irq: 5 };
  }
  async memory() {
    return { total: 2048, free: 1024, available: 1500, buffers: 10, cached: 100, slab: 20, swap_total: 0, swap_used: 0 };
  }
  async disk() {
    return { used: 1e9, available: 2e9 };
  }
  load(): [number, number, number] {
    return [0.1, 0.2, 0.3];
  }
  async namespaceInterfaces(netns: string) {
    this.netnsAsked.push(netns);
    return this.interfaces;
  }
}
