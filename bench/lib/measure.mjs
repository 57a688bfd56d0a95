/**
 * @module bench/lib/measure
 * measure.py (the shared tool that starts an agent, samples its memory and times requests
 * through the real Octavia client) against one agent, and the flat figures of its document.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { log, tail } from './log.mjs';
import { assertNotAborted, isAborted, runCommand } from './processes.mjs';
import { REPO, tool } from './shared-tools.mjs';

/**
 * Run measure.py against one agent (it starts and stops the agent itself when the agent has a
 * startCmd and `starts` > 0) and return its JSON document, or an error with the log tails.
 */
export async function runMeasure(ctx, agent, { starts = 0, n, ops, idleWait, extraArgs = [] }) {
  const jsonFile = join(ctx.tmp.dir, `measure-${agent.role}-${Date.now()}.json`);
  const args = ['--base-url', agent.baseUrl, '--certs', ctx.pki.dir, '--amphora-id', ctx.pki.amphoraId, '--pid-cmd', agent.pidCmd];
  if (starts > 0) {
    args.push('--start-cmd', agent.startCmd, '--starts', String(starts));
    if (agent.stopCmd) args.push('--stop-cmd', agent.stopCmd);
  }
  args.push('-n', String(n), '--ops', ops.join(','), '--idle-wait', String(idleWait), '--json', jsonFile, ...extraArgs);

  assertNotAborted('measure.py');
  log(`measuring ${agent.label} on ${agent.baseUrl}`);
  const res = await runCommand(tool('measure.py'), args, { cwd: REPO, prefix: `  [${agent.role}]` });
  let result;
  try {
    result = JSON.parse(await readFile(jsonFile, 'utf8'));
  } catch {
    result = undefined;
  }
  let error;
  if (res.code !== 0 || !result || result.error) {
    const reason = result?.error ?? res.stderr.trim().split('\n').pop() ?? `exit ${res.code}`;
    error = `measure.py for ${agent.role} failed (exit ${res.code}): ${reason}`;
    // After an abort the agent's logs only show that it was stopped.
    for (const f of isAborted() ? [] : agent.logFiles) {
      const t = tail(f);
      if (t) log(`last lines of ${f}:\n${t}`);
    }
  }
  return { result, error };
}

/**
 * The figures of one measure.py document, flat and named with their unit. Figures that the
 * document does not have are null, so that a failed measurement is visible in the report.
 */
export function agentFigures(result, ops) {
  const mem = (sample, key) => result?.[sample]?.total?.[key] ?? null;
  const figures = {
    startup_s: result?.startup_median_s ?? null,
    startup_samples_s: result?.startup_s ?? null,
    procs: result?.mem_idle?.n_procs ?? null,
    rss_mib: mem('mem_idle', 'rss_mib'),
    pss_mib: mem('mem_idle', 'pss_mib'),
    uss_mib: mem('mem_idle', 'uss_mib'),
    rss_after_mib: mem('mem_after', 'rss_mib'),
    pss_after_mib: mem('mem_after', 'pss_mib'),
  };
  for (const op of ops) {
    const lat = result?.latency_ms?.[op];
    figures[`${op}_p50_ms`] = lat?.median_ms ?? null;
    figures[`${op}_p90_ms`] = lat?.p90_ms ?? null;
    figures[`${op}_p99_ms`] = lat?.p99_ms ?? null;
    figures[`${op}_mean_ms`] = lat?.mean_ms ?? null;
  }
  return figures;
}
