/**
 * @module services/network/ip-state
 * Reads link, address, route and rule state with `ip -j` (JSON, never screen-scraped) through
 * the ProcessRunner, in the agent's own namespace (`netns` undefined) or a named one, and runs
 * `ip` commands there. The keys are normalized (compressed addresses, numeric tables) so that
 * the bring-up compares like with like.
 */
import type { ProcessRunner, RunResult } from '../../system/exec.js';
import { normalizeIp } from '../../model/ip-address.js';
import { parseIpAddrJson } from '../../system/net/addresses.js';

export interface Link {
  readonly ifname: string;
  readonly address: string;
  readonly mtu: number;
  readonly up: boolean;
}

export interface Address {
  readonly local: string;
  readonly prefixlen: number;
  readonly family: 'inet' | 'inet6';
  readonly permanent: boolean;
  readonly tentative: boolean;
  readonly scope: string;
}

export interface RouteKey {
  readonly dst: string;
  readonly gateway: string | undefined;
  readonly prefsrc: string | undefined;
  readonly table: number;
}

export interface RuleKey {
  readonly src: string;
  readonly srcLen: number;
  readonly table: number;
  readonly protocol: string | undefined;
}

const TABLES: Record<string, number> = { main: 254, local: 255, default: 253 };
export const tableId = (t: string | number | undefined): number => (t === undefined ? 254 : typeof t === 'number' ? t : (TABLES[t] ?? Number(t)));

interface JsonRoute {
  dst: string;
  gateway?: string;
  prefsrc?: string;
  table?: string;
  protocol?: string;
  type?: string;
}

export class IpState {
  constructor(
    private readonly runner: ProcessRunner,
    private readonly ipCmd: () => string,
  ) {}

  run(netns: string | undefined, args: readonly string[], allowFailure = false): Promise<RunResult> {
    return this.runner.run(this.ipCmd(), args, { ...(netns === undefined ? {} : { netns }), allowFailure });
  }

  private async json<T>(netns: string | undefined, args: readonly string[]): Promise<T[]> {
    const r = await this.run(netns, ['-j', ...args]);
    return r.stdout.trim() === '' ? [] : (JSON.parse(r.stdout) as T[]);
  }

  async links(netns: string | undefined): Promise<Link[]> {
    const raw = await this.json<{ ifname: string; address?: string; mtu: number; flags?: string[] }>(netns, ['link', 'show']);
    return raw.map((l) => ({ ifname: l.ifname, address: (l.address ?? '').toLowerCase(), mtu: l.mtu, up: (l.flags ?? []).includes('UP') }));
  }

  async addresses(netns: string | undefined, dev: string): Promise<Address[]> {
    const r = await this.run(netns, ['-j', 'addr', 'show', 'dev', dev]);
    return parseIpAddrJson(r.stdout).map((a) => ({
      local: normalizeIp(a.local)!,
      prefixlen: a.prefixlen,
      family: a.family,
      permanent: !a.dynamic,
      tentative: a.tentative,
      scope: a.scope,
    }));
  }

  /** Routes through `dev` in every table that `ip route add … proto static` made (the reference's own). */
  async staticRoutes(netns: string | undefined, dev: string): Promise<RouteKey[]> {
    const out: RouteKey[] = [];
    for (const family of ['-4', '-6']) {
      const raw = await this.json<JsonRoute>(netns, [family, 'route', 'show', 'table', 'all', 'dev', dev]);
      for (const r of raw.filter((r) => r.protocol === 'static' && (r.type ?? 'unicast') === 'unicast')) {
        out.push({ dst: routeDst(r.dst, family), gateway: normalizeIp(r.gateway), prefsrc: normalizeIp(r.prefsrc), table: tableId(r.table) });
      }
    }
    return out;
  }

  /** The devices the default routes of the main table leave through (multipath next hops included). */
  async defaultRouteDevices(netns: string | undefined): Promise<Set<string>> {
    const out = new Set<string>();
    for (const family of ['-4', '-6']) {
      const raw = await this.json<{ dev?: string; nexthops?: { dev?: string }[] }>(netns, [family, 'route', 'show', 'default']);
      for (const r of raw) for (const dev of [r.dev, ...(r.nexthops ?? []).map((n) => n.dev)]) if (dev !== undefined) out.add(dev);
    }
    return out;
  }

  async sourceRules(netns: string | undefined): Promise<RuleKey[]> {
    const out: RuleKey[] = [];
    for (const family of ['-4', '-6']) {
      const raw = await this.json<{ src?: string; srclen?: number; table?: string; protocol?: string }>(netns, [family, 'rule', 'show']);
      for (const r of raw.filter((r) => r.src !== undefined && r.src !== 'all')) {
        const src = normalizeIp(r.src)!;
        out.push({ src, srcLen: r.srclen ?? (src.includes(':') ? 128 : 32), table: tableId(r.table), protocol: r.protocol });
      }
    }
    return out;
  }
}

/** `default` and host routes without a prefix, as `<compressed address>/<len>`. */
export function routeDst(dst: string, family: string): string {
  if (dst === 'default') return family === '-6' ? '::/0' : '0.0.0.0/0';
  const [addr = '', len] = dst.split('/');
  return `${normalizeIp(addr)!}/${len ?? (addr.includes(':') ? 128 : 32)}`;
}
