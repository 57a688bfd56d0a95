/**
 * @module services/metrics/agent-metrics
 * The agent's Prometheus registry (one per AgentMetrics, never prom-client's global one, so that
 * tests and embedded agents can build many) and its scrape: one look at every source (the LVS and
 * haproxy samplers of services/telemetry, the daemons' pid files), then every family's collect
 * reads that look. Nothing runs between scrapes; scrapes that arrive while one is running share
 * its look and its text. Knows nothing of HTTP (api/metrics.ts serves it).
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Logger } from '../../log.js';
import type { RestartCount } from '../daemon-revival.js';
import type { HaproxySampler, LvsSampler } from '../telemetry/samples.js';
import type { DaemonLiveness } from './daemon-liveness.js';
import { registerDaemonMetrics, registerRestartMetrics, registerSourceMetrics } from './daemon-metrics.js';
import { registerHaproxyMetrics } from './haproxy-metrics.js';
import { EMPTY_LOOK, METRICS_SOURCES, type MetricsLook, type MetricsSource } from './look.js';
import { registerLvsMetrics } from './lvs-metrics.js';

export interface DaemonLivenessSource {
  sample(): Promise<DaemonLiveness[]>;
}

export interface AgentMetricsDeps {
  /** Absent: no UDP/SCTP families (and no `source="lvs"` series). */
  readonly lvs?: LvsSampler | undefined;
  readonly haproxy?: HaproxySampler | undefined;
  readonly daemons?: DaemonLivenessSource | undefined;
  /** The reconcile job's restarts (services/daemon-revival.ts); absent: no such family. */
  readonly restarts?: { snapshot(): RestartCount[] } | undefined;
  /** prom-client's default metrics of this process, as `amphora_agent_*` (default true). */
  readonly processMetrics?: boolean;
  readonly log: Logger;
}

interface Sampler<T> {
  sample(): Promise<T[]>;
}

export class AgentMetrics {
  private readonly registry = new Registry();
  private look: MetricsLook = EMPTY_LOOK;
  private running: Promise<string> | null = null;
  /** Sources whose last look failed: a failure is logged when it starts and when it ends, not at every scrape. */
  private readonly failing = new Set<MetricsSource>();

  constructor(private readonly deps: AgentMetricsDeps) {
    const current = () => this.look;
    registerLvsMetrics(this.registry, current);
    registerHaproxyMetrics(this.registry, current);
    registerDaemonMetrics(this.registry, current);
    if (deps.restarts !== undefined) registerRestartMetrics(this.registry, deps.restarts);
    registerSourceMetrics(this.registry, current, METRICS_SOURCES.filter((s) => deps[s] !== undefined));
    if (deps.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'amphora_agent_' });
  }

  /** The exposition format's content type (Prometheus text 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text of one scrape. */
  scrape(): Promise<string> {
    this.running ??= this.render().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async render(): Promise<string> {
    const [lvs, haproxy, daemons] = await Promise.all([this.sample('lvs', this.deps.lvs), this.sample('haproxy', this.deps.haproxy), this.sample('daemons', this.deps.daemons)]);
    this.look = { lvs, haproxy, daemons };
    try {
      return await this.registry.metrics();
    } finally {
      this.look = EMPTY_LOOK;
    }
  }

  private async sample<T>(source: MetricsSource, sampler: Sampler<T> | undefined): Promise<T[] | null> {
    if (sampler === undefined) return null;
    try {
      const samples = await sampler.sample();
      if (this.failing.delete(source)) this.deps.log.info({ source }, 'metrics: the source can be read again');
      return samples;
    } catch (err) {
      if (!this.failing.has(source)) this.deps.log.warn({ err, source }, 'metrics: cannot read the source; its families stay empty until it can');
      this.failing.add(source);
      return null;
    }
  }
}
