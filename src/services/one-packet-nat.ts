/**
 * @module services/one-packet-nat
 * Keeps the amphora namespace's tc egress filters (render/ops-nat.ts) in step with the stored
 * listener models, so that members' replies to ONE_PACKET_SCHEDULING listeners leave from the
 * VIP. `sync` is called after every change of the models; it lists the namespace's devices and
 * this agent's filters on them, then replaces those filters in one `tc -batch` run. It runs no
 * command when the wanted filters are the ones it applied last, so that a PUT of any other
 * listener costs nothing. Commands go through the ProcessRunner as argument arrays; the batch is
 * tc's standard input.
 *
 * Filters live on devices: a device plugged after the last change gets them with the next one.
 * After a reboot the namespace is new and empty; `restore` puts them back at startup.
 */
import type { LiveConfig } from '../config/startup.js';
import type { Paths } from '../system/paths.js';
import type { Logger } from '../log.js';
import type { StoredListener } from '../model/listener/schema.js';
import { OPS_TC_PREF, opsRewriteKey, opsRewrites, renderOpsTcBatch, type TcDevice } from '../render/ops-nat.js';
import type { ProcessRunner } from '../system/exec.js';
import { KeyedLock } from './keyed-lock.js';

export interface OnePacketNatDeps {
  readonly config: () => LiveConfig;
  readonly paths: Paths;
  readonly runner: ProcessRunner;
  readonly log: Logger;
}

const OUR_PREFS: readonly number[] = Object.values(OPS_TC_PREF);

function parseJsonArray(text: string, what: string): unknown[] {
  const value: unknown = JSON.parse(text.trim() === '' ? '[]' : text);
  if (!Array.isArray(value)) throw new Error(`${what}: expected a JSON array`);
  return value;
}

const field = (o: unknown, key: string): unknown => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[key] : undefined);

export class OnePacketNat {
  /**
   * Key (render/ops-nat.ts opsRewriteKey) of the filters in the namespace: '' for none, which is
   * what a new agent assumes (nothing else adds them); undefined once a sync failed half-way.
   */
  private applied: string | undefined = '';
  private readonly lock = new KeyedLock();

  constructor(private readonly deps: OnePacketNatDeps) {}

  /** Makes the namespace's filters those of `listeners`; throws CommandFailed when tc or ip fails. */
  async sync(listeners: readonly StoredListener[]): Promise<void> {
    const { rewrites, shadowed } = opsRewrites(listeners);
    const key = opsRewriteKey(rewrites);
    await this.lock.run('tc', async () => {
      if (key === this.applied) return;
      for (const s of shadowed) {
        this.deps.log.warn(s, 'member of two ONE_PACKET_SCHEDULING listeners: its replies come from the VIP of the first only');
      }
      this.applied = undefined;
      const batch = renderOpsTcBatch(await this.devices(), rewrites);
      if (batch !== '') await this.tc(['-batch', '-'], batch);
      this.applied = key;
      this.deps.log.info({ filters: rewrites.length }, 'one-packet-scheduling reply rewrites applied');
    });
  }

  /**
   * At startup: puts the filters of the stored ONE_PACKET_SCHEDULING listeners back (a reboot
   * empties the namespace). The namespace may not exist yet, so a failure is retried
   * `attempts` times, `intervalMs` apart, with the models as they are then.
   */
  restore(listeners: () => readonly StoredListener[], attempts = 20, intervalMs = 3000): void {
    if (opsRewrites(listeners()).rewrites.length === 0) return;
    const attempt = (left: number): void => {
      this.sync(listeners()).catch((err: unknown) => {
        if (left <= 1) this.deps.log.warn({ err }, 'could not restore the one-packet-scheduling reply rewrites');
        else setTimeout(() => attempt(left - 1), intervalMs).unref();
      });
    };
    attempt(attempts);
  }

  private async run(cmd: string, args: readonly string[], input?: string): Promise<string> {
    const netns = this.deps.paths.namespace;
    const result = await this.deps.runner.run(cmd, args, input === undefined ? { netns } : { netns, input });
    return result.stdout;
  }

  private tc(args: readonly string[], input?: string): Promise<string> {
    return this.run(this.deps.config().amphora_agent.tc_cmd, args, input);
  }

  /** Every device but loopback, with the preferences of ours it carries on egress. */
  private async devices(): Promise<TcDevice[]> {
    const links = parseJsonArray(await this.run(this.deps.config().amphora_agent.ip_cmd, ['-j', 'link', 'show']), 'ip -j link show');
    const names = links.filter((l) => field(l, 'link_type') !== 'loopback').map((l) => field(l, 'ifname'));
    const out: TcDevice[] = [];
    for (const name of names) {
      if (typeof name !== 'string') throw new Error('ip -j link show: a device without a name');
      const filters = parseJsonArray(await this.tc(['-j', 'filter', 'show', 'dev', name, 'egress']), `tc filter show dev ${name}`);
      const prefs = new Set(filters.map((f) => field(f, 'pref')).filter((p): p is number => typeof p === 'number' && OUR_PREFS.includes(p)));
      out.push({ name, prefs: [...prefs] });
    }
    return out;
  }
}
