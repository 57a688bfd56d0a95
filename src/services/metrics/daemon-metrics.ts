/**
 * @module services/metrics/daemon-metrics
 * The families of the daemons themselves (from DaemonLivenessReader) and of the scrape's own
 * sources. `amphora_daemon_wanted` and `amphora_daemon_alive` carry the same labels, so that
 * `amphora_daemon_wanted > amphora_daemon_alive` selects every daemon that should run and does not.
 */
import type { Registry } from 'prom-client';
import type { RestartCount } from '../daemon-revival.js';
import { LABEL, type DaemonLiveness } from './daemon-liveness.js';
import { absoluteCounter, gauge, type Labels, type Series } from './families.js';
import type { CurrentLook, MetricsSource } from './look.js';

const DAEMON = ['daemon', 'listener_id', 'load_balancer_id'] as const;
type DaemonLabel = (typeof DAEMON)[number];

function daemonLabels(d: DaemonLiveness): Labels<DaemonLabel> {
  if (d.id === null) return { daemon: d.daemon };
  return d.daemon === 'haproxy' ? { daemon: d.daemon, load_balancer_id: d.id } : { daemon: d.daemon, listener_id: d.id };
}

export function registerDaemonMetrics(registry: Registry, look: CurrentLook): void {
  const series = (value: (d: DaemonLiveness) => boolean) =>
    function* (): Generator<Series<DaemonLabel>> {
      for (const d of look().daemons ?? []) yield [daemonLabels(d), value(d) ? 1 : 0];
    };
  gauge(registry, {
    name: 'amphora_daemon_alive',
    help: "Whether the daemon's pid file names a live process (keepalived_lvs per listener, keepalived_vrrp, haproxy per load balancer)",
    labelNames: DAEMON,
    series: series((d) => d.alive),
  });
  gauge(registry, {
    name: 'amphora_daemon_wanted',
    help: 'Whether the agent was asked to run the daemon (0 after an explicit stop)',
    labelNames: DAEMON,
    series: series((d) => d.wanted),
  });
}

/** One series per wired source: 1 when this scrape's look at it succeeded, 0 when it failed. */
export function registerSourceMetrics(registry: Registry, look: CurrentLook, wired: readonly MetricsSource[]): void {
  gauge(registry, {
    name: 'amphora_metrics_source_up',
    help: 'Whether this scrape could read the source (lvs: IPVS and keepalived, haproxy: the stats sockets, daemons: pid files); 0 leaves its families empty',
    labelNames: ['source'],
    series: function* () {
      const current = look();
      for (const source of wired) yield [{ source }, current[source] === null ? 0 : 1];
    },
  });
}

/**
 * The reconcile job's restarts per kind and outcome (started, failed, given_up), since the agent
 * started. The agent's own count, not the look's: a restart happens between scrapes.
 */
export function registerRestartMetrics(registry: Registry, restarts: { snapshot(): RestartCount[] }): void {
  absoluteCounter(registry, {
    name: 'amphora_daemon_restarts_total',
    help: 'Restarts of dead daemons by the agent (outcome: started, failed; given_up: left dead after too many)',
    labelNames: ['daemon', 'outcome'],
    series: function* () {
      for (const r of restarts.snapshot()) yield [{ daemon: LABEL[r.kind], outcome: r.outcome }, r.count];
    },
  });
}
