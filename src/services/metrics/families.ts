/**
 * @module services/metrics/families
 * The two kinds of metric family the agent exports, both filled at scrape time from the look
 * AgentMetrics took for that scrape (no timer keeps them up to date): a counter that carries a
 * daemon's own cumulative count, and a gauge. Every `collect` first drops what the previous scrape
 * set, so an object that is gone (a deleted listener, a member out of IPVS) leaves no stale series.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export type Labels<L extends string> = Partial<Record<L, string | number>>;
/** One series of a family: its labels and its value at this scrape. */
export type Series<L extends string> = readonly [Labels<L>, number];

export interface FamilySpec<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  /** The family's series at this scrape, read from the current look. */
  readonly series: () => Iterable<Series<L>>;
}

/**
 * IPVS and haproxy keep cumulative counts themselves (bytes, packets, connections, sessions,
 * errors), so the agent exports the count the daemon reports rather than adding up deltas of its
 * own: an agent restart then changes nothing, and a daemon restart (its count starts again at 0)
 * is a decrease that Prometheus's rate() and increase() already read as a counter reset.
 * prom-client's Counter has no `set`, so collect resets the family and `inc`s each series by the
 * absolute value; a Counter rather than a Gauge named `*_total` because consumers go by the
 * `# TYPE … counter` line (OpenMetrics, rate() lints, dashboards that pick functions by type).
 */
export function absoluteCounter<L extends string>(registry: Registry, spec: FamilySpec<L>): Counter<L> {
  return new Counter<L>({
    name: spec.name,
    help: spec.help,
    labelNames: spec.labelNames,
    registers: [registry],
    collect() {
      this.reset();
      // a counter cannot go negative or be NaN: such a value would fail the whole scrape, so it is left out
      for (const [labels, value] of spec.series()) if (Number.isFinite(value) && value >= 0) this.inc(labels, value);
    },
  });
}

/** A value as it is now (connections, weights, 1/0 states). */
export function gauge<L extends string>(registry: Registry, spec: FamilySpec<L>): Gauge<L> {
  return new Gauge<L>({
    name: spec.name,
    help: spec.help,
    labelNames: spec.labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of spec.series()) if (Number.isFinite(value)) this.set(labels, value);
    },
  });
}
