/**
 * @module test/fakes/fake-tc
 * The amphora namespace as `ip -j link show` and tc see it, scripted on a FakeRunner: devices,
 * and the egress filters each carries. `tc -batch -` applies its standard input line by line
 * (qdisc replace … clsact, filter del … pref N, filter add … pref N …) and is recorded, so that a
 * test can assert both the batches the agent sent and the filters that result.
 */
import type { FakeRunner, Reply } from './fake-runner.js';

export interface FakeFilter {
  readonly pref: number;
  readonly line: string;
}

export class FakeTc {
  readonly batches: string[] = [];
  /** device → egress filters; a device without clsact is absent from `clsact`. */
  readonly filters = new Map<string, FakeFilter[]>();
  readonly clsact = new Set<string>();
  /** The exit code of the next batches (tc stops at the first failing line, like the real one). */
  failBatches = false;

  constructor(
    runner: FakeRunner,
    public devices: string[] = ['eth1', 'eth2'],
    ipCmd = '/sbin/ip',
    tcCmd = '/sbin/tc',
  ) {
    runner
      .on([ipCmd, '-j', 'link', 'show'], () => ({ stdout: JSON.stringify([{ ifname: 'lo', link_type: 'loopback' }, ...this.devices.map((d) => ({ ifname: d, link_type: 'ether' }))]) }))
      .on([tcCmd, '-j', 'filter', 'show', 'dev'], (argv) => this.show(argv[5] ?? ''))
      .on([tcCmd, '-batch', '-'], (_argv, options) => this.batch(options.input ?? ''));
  }

  /** The filter lines on a device, in the order they were added. */
  lines(dev: string): string[] {
    return (this.filters.get(dev) ?? []).map((f) => f.line);
  }

  private show(dev: string): Reply {
    // like tc: the chain header, then one entry per filter
    const fs = this.filters.get(dev) ?? [];
    const prefs = [...new Set(fs.map((f) => f.pref))];
    return { stdout: JSON.stringify(prefs.flatMap((pref) => [{ protocol: 'ip', pref, kind: 'flower', chain: 0 }, ...fs.filter((f) => f.pref === pref).map(() => ({ protocol: 'ip', pref, kind: 'flower', chain: 0, options: {} }))])) };
  }

  private batch(input: string): Reply {
    this.batches.push(input);
    if (this.failBatches) return { exitCode: 2, stderr: 'Error: TC classifier not found.\nCommand failed -:2\n' };
    for (const line of input.split('\n').filter(Boolean)) {
      const w = line.split(' ');
      const dev = w[3] ?? '';
      if (!this.devices.includes(dev)) return { exitCode: 1, stderr: `Cannot find device "${dev}"\n` };
      const pref = Number(w[w.indexOf('pref') + 1]);
      if (w[0] === 'qdisc' && w[1] === 'replace') this.clsact.add(dev);
      else if (w[0] === 'filter' && w[1] === 'del') this.filters.set(dev, (this.filters.get(dev) ?? []).filter((f) => f.pref !== pref));
      else if (w[0] === 'filter' && w[1] === 'add') {
        if (!this.clsact.has(dev)) return { exitCode: 2, stderr: 'Error: Specified qdisc kind is unknown.\n' };
        this.filters.set(dev, [...(this.filters.get(dev) ?? []), { pref, line }]);
      } else return { exitCode: 1, stderr: `unknown line ${line}\n` };
    }
    return {};
  }
}
