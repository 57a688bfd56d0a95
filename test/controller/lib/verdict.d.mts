/**
 * @module test/controller/lib/verdict (types)
 * Types of verdict.mjs, for the typed test beside it (verdict.test.ts); run.mjs uses it untyped.
 */
export interface ScenarioStep {
  step: string;
  outcome: 'passed' | 'failed' | 'skipped';
  seconds: number | null;
  status: string;
  calls: string[];
}
export interface StepSummary extends ScenarioStep {
  required: boolean;
  reported_only?: string;
  same_calls_as_ref?: boolean;
}
export interface AgentSummary {
  agent: string;
  ok: boolean;
  seconds: number;
  failed_steps: string[];
  not_run: string[];
  steps: StepSummary[];
  stops_at?: { step: string; status: string; failing_calls: string[] };
  timed_out?: true;
  no_steps?: string;
}
/** What a run can show: IPVS in the kernel, a failover (a short heartbeat_timeout; default true). */
export interface RunHost {
  ipvs: boolean;
  failover?: boolean;
}
export function reportedOnly(scenario: string, step: string, host: RunHost): string | null;
export function nameIds(call: string, ids: Record<string, string>): string;
export function sameCalls(ours: readonly string[], ref: readonly string[]): boolean;
export function summarize(args: {
  scenario: string;
  agent: string;
  steps: ScenarioStep[];
  ids: Record<string, string>;
  seconds: number;
  timedOut: boolean;
  host: RunHost;
  ref?: AgentSummary | undefined;
}): AgentSummary;
