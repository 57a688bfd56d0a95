/**
 * @module services/metrics/look
 * What one scrape looked at: the samples of each source, taken once at the start of the scrape
 * (AgentMetrics) and read by every family's collect. A source that is not wired, or whose look
 * failed this time, is null: its families are empty and `amphora_metrics_source_up` says so.
 */
import type { HaproxyLoadBalancerSample, LvsListenerSample } from '../telemetry/samples.js';
import type { DaemonLiveness } from './daemon-liveness.js';

export interface MetricsLook {
  readonly lvs: readonly LvsListenerSample[] | null;
  readonly haproxy: readonly HaproxyLoadBalancerSample[] | null;
  readonly daemons: readonly DaemonLiveness[] | null;
}

export type MetricsSource = keyof MetricsLook;
export const METRICS_SOURCES: readonly MetricsSource[] = ['lvs', 'haproxy', 'daemons'];

export const EMPTY_LOOK: MetricsLook = { lvs: null, haproxy: null, daemons: null };

/** The current look, as the families read it. */
export type CurrentLook = () => MetricsLook;
