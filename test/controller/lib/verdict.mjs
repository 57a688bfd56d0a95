/**
 * @module test/controller/lib/verdict
 * Which steps each agent must pass, and the per-scenario summary that goes into the report:
 * each step with its outcome, whether it counts, its time and the agent calls made during it
 * (object ids replaced by their names, {lb}, {amp}, ...), and for our agent whether those calls
 * are the reference's. Pure: takes the scenario's steps, returns data.
 */

/**
 * Steps that are reported but never fail the tier, with the reason (null: the step counts).
 * ONLINE, ERROR and the failover come from the agent's heartbeats and count for both agents. A UDP
 * pool gives the LVS config a virtual_server: from then on keepalived needs IPVS, which a kernel
 * without it cannot give (the reference answers 202 anyway, ours 500). The failover needs a short
 * heartbeat_timeout, which a run with `--agents swap` does not set (`host.failover` false).
 */
export function reportedOnly(scenario, step, { ipvs, failover = true }) {
  if (scenario === 'udp' && !ipvs && ['pool-create', 'member-create', 'hm-create'].includes(step)) {
    return 'keepalived needs IPVS for a virtual_server; this kernel has none';
  }
  if (!failover && (step === 'failover' || step === 'traffic-failover')) {
    return 'the run keeps the harness heartbeat_timeout of 600 s (--agents swap)';
  }
  return null;
}

/** One call line with the run's object ids replaced by their names. */
export function nameIds(call, ids) {
  let out = call;
  for (const [name, id] of Object.entries(ids)) out = out.split(id).join(`{${name}}`);
  return out;
}

/**
 * The same call, as far as the controller can tell: our request log shows the controller's
 * `GET //` (its version probe) as `GET /`, because it logs the routed path.
 */
const sameCall = (a, b) => a.replace(/^(\S+) \/\/ /, '$1 / ') === b.replace(/^(\S+) \/\/ /, '$1 / ');

export function sameCalls(ours, ref) {
  return ours.length === ref.length && ours.every((c, i) => sameCall(c, ref[i]));
}

/**
 * The summary of one agent's run of one scenario. `host` says what the run can show (IPVS, a
 * failover); `ref` (for our agent) is the reference's summary of the same scenario in the same
 * run, to compare the calls with.
 */
export function summarize({ scenario, agent, steps, ids, seconds, timedOut, host, ref }) {
  const out = steps.map((s) => {
    const why = reportedOnly(scenario, s.step, host);
    const calls = s.calls.map((c) => nameIds(c, ids));
    const row = { step: s.step, outcome: s.outcome, required: why === null, seconds: s.seconds, status: s.status, calls };
    if (why) row.reported_only = why;
    const refStep = ref?.steps.find((r) => r.step === s.step);
    if (refStep && s.outcome !== 'skipped') row.same_calls_as_ref = sameCalls(calls, refStep.calls);
    return row;
  });
  const failed = out.filter((s) => s.required && s.outcome === 'failed').map((s) => s.step);
  const notRun = out.filter((s) => s.required && s.outcome === 'skipped').map((s) => s.step);
  const stopsAt = out.find((s) => s.required && s.outcome === 'failed');
  const ok = failed.length === 0 && notRun.length === 0 && !timedOut && out.length > 0;
  const result = { agent, ok, seconds, failed_steps: failed, not_run: notRun, steps: out };
  if (stopsAt) {
    const bad = stopsAt.calls.filter((c) => !/ [23]\d\d$/.test(c));
    result.stops_at = { step: stopsAt.step, status: stopsAt.status, failing_calls: bad };
  }
  if (timedOut) result.timed_out = true;
  if (out.length === 0) result.no_steps = 'the scenario printed no step (see its log)';
  return result;
}
