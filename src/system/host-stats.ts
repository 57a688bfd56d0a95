/**
 * @module system/host-stats
 * Host figures for GET /1.0/details: CPU ticks from `<proc_dir>/stat` (the source the reference
 * uses), memory from systeminformation, disk from statfs('/'), load averages, and the traffic
 * counters of the eth* interfaces inside the amphora network namespace (`ip -j -s link`, run
 * there by the ProcessRunner). Reading a namespace never creates it (the reference's pyroute2
 * call does).
 */
import { statfs, readFile } from 'node:fs/promises';
import { hostname, loadavg } from 'node:os';
import { join } from 'node:path';
import type { ProcessRunner } from './exec.js';

export interface CpuTicks {
  readonly total: number;
  readonly user: number;
  readonly system: number;
  readonly soft_irq: number;
}

export interface MemoryKb {
  readonly total: number;
  readonly free: number;
  readonly available: number;
  readonly buffers: number;
  readonly cached: number;
  readonly slab: number;
  readonly swap_total: number;
  readonly swap_used: number;
}

export interface DiskBytes {
  readonly used: number;
  readonly available: number;
}

export type InterfaceCounters = Record<string, { network_tx: number; network_rx: number }>;

export interface HostStats {
  hostname(): string;
  cpu(): Promise<CpuTicks>;
  memory(): Promise<MemoryKb>;
  disk(): Promise<DiskBytes>;
  load(): [number, number, number];
  namespaceInterfaces(netns: string): Promise<InterfaceCounters>;
}

/** First line of /proc/stat: `cpu user nice system idle iowait irq softirq steal …` (jiffies). */
export function parseProcStat(text: string): CpuTicks {
  const line = text.split('\n').find((l) => /^cpu\s/.test(l));
  if (!line) throw new Error('no aggregate cpu line in /proc/stat');
  const n = line.trim().split(/\s+/).slice(1).map(Number);
  return { total: n.reduce((a, b) => a + b, 0), user: n[0] ?? 0, system: n[2] ?? 0, soft_irq: n[6] ?? 0 };
}

interface IpLink {
  ifname?: string;
  stats64?: { rx?: { bytes?: number }; tx?: { bytes?: number } };
}

export function parseIpLinkStats(json: string): InterfaceCounters {
  const links = JSON.parse(json) as IpLink[];
  const out: InterfaceCounters = {};
  for (const link of links) {
    if (!link.ifname?.startsWith('eth')) continue;
    out[link.ifname] = { network_tx: link.stats64?.tx?.bytes ?? 0, network_rx: link.stats64?.rx?.bytes ?? 0 };
  }
  return out;
}

const KB = 1024;

export class LinuxHostStats implements HostStats {
  constructor(
    private readonly runner: ProcessRunner,
    private readonly procDir: string,
    private readonly ipCmd: () => string,
  ) {}

  hostname(): string {
    return hostname();
  }

  async cpu(): Promise<CpuTicks> {
    return parseProcStat(await readFile(join(this.procDir, 'stat'), 'utf8'));
  }

  async memory(): Promise<MemoryKb> {
    // loaded on first use: only GET /1.0/details needs it, and startup time matters
    const { default: si } = await import('systeminformation');
    const m = await si.mem();
    const kb = (bytes: number) => Math.round(bytes / KB);
    return {
      total: kb(m.total),
      free: kb(m.free),
      available: kb(m.available),
      buffers: kb(m.buffers),
      cached: kb(m.cached),
      slab: kb(m.slab),
      swap_total: kb(m.swaptotal),
      swap_used: kb(m.swapused),
    };
  }

  async disk(): Promise<DiskBytes> {
    const s = await statfs('/');
    return { used: (s.blocks - s.bfree) * s.bsize, available: s.bavail * s.bsize };
  }

  load(): [number, number, number] {
    const [a = 0, b = 0, c = 0] = loadavg();
    return [a, b, c];
  }

  async namespaceInterfaces(netns: string): Promise<InterfaceCounters> {
    const r = await this.runner.run(this.ipCmd(), ['-j', '-s', 'link', 'show'], { netns, allowFailure: true, timeoutMs: 10_000 });
    // A namespace that does not exist yet (nothing plugged) simply has no interfaces.
    if (r.exitCode !== 0) return {};
    return parseIpLinkStats(r.stdout);
  }
}
