/**
 * Suite "agent": the cost of the agent process itself, with no load balancer configured.
 * Both agents are started by measure.py (K times, launch → first 200 on GET //), then idle
 * memory is sampled and GET /1.0/info and GET // are timed through the real Octavia client.
 */
import { envInt, envNumber } from '../lib/knobs.mjs';
import { agentFigures, runMeasure } from '../lib/measure.mjs';
import { ourAgent } from '../lib/our-agent.mjs';
import { referenceAgent } from '../lib/reference-agent.mjs';
import { compare, missingFigures } from '../lib/report.mjs';

export const name = 'agent';

/** Maximum ours/reference ratios from the issue. */
const TARGETS = { startup_s: 0.2, rss_mib: 0.333, info_p50_ms: 0.1 };

const OPS = ['info', 'version'];

/** Figures without which the suite counts as failed (targets, plus what the brief asks to record). */
const REQUIRED = ['startup_s', 'procs', 'rss_mib', 'pss_mib', 'info_p50_ms', 'info_p99_ms', 'version_p50_ms'];

export async function run(ctx) {
  const params = {
    starts: envInt('BENCH_STARTS', 5),
    n: envInt('BENCH_N', 200),
    ops: OPS,
    idle_wait_s: envNumber('BENCH_IDLE_WAIT', 5),
  };
  const agents = [await referenceAgent(ctx, { name: 'ref' }), await ourAgent(ctx, { name: 'ours' })];

  const figures = {};
  const errors = [];
  // One after the other, never concurrently: the host has few vCPUs and the two would
  // disturb each other's timings.
  for (const agent of agents) {
    const { result, error } = await runMeasure(ctx, agent, { starts: params.starts, n: params.n, ops: OPS, idleWait: params.idle_wait_s });
    if (error) errors.push(error);
    figures[agent.role] = agentFigures(result, OPS);
    const missing = missingFigures(agent.role, figures[agent.role], REQUIRED);
    if (missing.length > 0) errors.push(`missing figures: ${missing.join(', ')}`);
  }

  return {
    params,
    agents: Object.fromEntries(agents.map((a) => [a.role, a.label])),
    reference: figures.reference,
    ours: figures.ours,
    ...compare(figures.reference, figures.ours, TARGETS),
    errors,
  };
}
