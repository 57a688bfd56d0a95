import { describe, expect, it } from 'vitest';
import { parseIpLinkStats, parseProcStat } from './host-stats.js';

describe('parseProcStat', () => {
  it('sums the aggregate line and picks user, system and softirq', () => {
    const ticks = parseProcStat('cpu  10 1 20 300 4 5 6 7 0 0\ncpu0 5 0 10 150 2 2 3 3 0 0\nintr 1\n');
    expect(ticks).toEqual({ total: 353, user: 10, system: 20, soft_irq: 6 });
  });
  it('fails loudly on a file without the cpu line', () => {
    expect(() => parseProcStat('intr 1\n')).toThrow(/no aggregate cpu line/);
  });
});

describe('parseIpLinkStats', () => {
  it('keeps only eth* interfaces with their byte counters', () => {
    const json = JSON.stringify([
      { ifname: 'lo', stats64: { rx: { bytes: 1 }, tx: { bytes: 1 } } },
      { ifname: 'eth1', stats64: { rx: { bytes: 100 }, tx: { bytes: 250 } } },
      { ifname: 'eth2' },
    ]);
    expect(parseIpLinkStats(json)).toEqual({ eth1: { network_tx: 250, network_rx: 100 }, eth2: { network_tx: 0, network_rx: 0 } });
  });
});
