/**
 * Suite "udp_upload_reload": what the controller does for a UDP listener on every change,
 * PUT …/udp_listener then PUT /1.0/loadbalancer/<listener>/reload, through the real client
 * (bench/udp_client.py), on both agents, interleaved pair by pair.
 *
 * This host has no IPVS, so the config is the controller's rendering of a disabled listener
 * (no virtual_server), which keepalived really runs here: the reference restarts it through its
 * sandbox's fake systemctl, ours validates it with keepalived --config-test and SIGHUPs it (or
 * does nothing when it is unchanged). Ours runs its keepalived in a namespace of its own
 * (testNamespace()), the reference in its sandbox's amphora-haproxy.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { envInt, envNumber } from '../lib/knobs.mjs';
import { log, showLogTails } from '../lib/log.mjs';
import { ourAgent } from '../lib/our-agent.mjs';
import { referenceAgent } from '../lib/reference-agent.mjs';
import { compare, missingFigures } from '../lib/report.mjs';
import { latencyStats } from '../lib/stats.mjs';
import { testNamespace } from '../lib/test-namespace.mjs';
import { runUdpClient } from '../lib/udp-client.mjs';

export const name = 'udp_upload_reload';

/** Maximum ours/reference ratios: upload + reload of a changed config, p50. */
const TARGETS = { changed_p50_ms: 0.333 };

const LISTENER = 'ffffffff-0000-0000-0000-00000000b0a1';

const REQUIRED = ['changed_p50_ms', 'changed_p99_ms', 'same_p50_ms', 'same_p99_ms'];

/** The figures of one agent in udp_client.py's answer. */
function figures(r) {
  const f = {};
  for (const phase of ['changed', 'same']) {
    const p = r?.[phase];
    f[`${phase}_p50_ms`] = p?.pair?.median_ms ?? null;
    f[`${phase}_p90_ms`] = p?.pair?.p90_ms ?? null;
    f[`${phase}_p99_ms`] = p?.pair?.p99_ms ?? null;
    f[`${phase}_mean_ms`] = p?.pair?.mean_ms ?? null;
    f[`${phase}_upload_p50_ms`] = p?.upload?.median_ms ?? null;
    f[`${phase}_reload_p50_ms`] = p?.reload?.median_ms ?? null;
    f[`${phase}_failures`] = p?.failures ?? null;
  }
  f.first_ms = r?.first_ms ?? null;
  return f;
}

const median = (xs) => latencyStats(xs)?.median_ms ?? null;

/**
 * Where our agent spends its time, from its own debug log: the server-side duration of each
 * request (the first pair, then n changed, then n same, in that order) and of the commands it
 * ran while handling the uploads.
 */
async function ourBreakdown(logFile, n) {
  let lines;
  try {
    lines = (await readFile(logFile, 'utf8')).split('\n');
  } catch {
    return null;
  }
  const uploads = [];
  const reloads = [];
  const commands = {};
  for (const line of lines) {
    let e;
    try {
      e = JSON.parse(line);
    } catch {
      continue;
    }
    if (e.msg === 'request' && e.method === 'PUT' && e.path?.endsWith(`/${LISTENER}/udp_listener`)) uploads.push(e.ms);
    else if (e.msg === 'request' && e.method === 'PUT' && e.path === `/1.0/loadbalancer/${LISTENER}/reload`) reloads.push(e.ms);
    else if (e.msg === 'command' && Array.isArray(e.argv)) {
      const argv = e.argv.map((a) => String(a).split('/').pop());
      const label = argv[0] === 'sh' ? `sh ${argv[1]}` : argv.slice(0, 2).join(' ');
      (commands[label] ??= []).push(e.ms);
    }
  }
  const phase = (xs, from, to) => median(xs.slice(from, to));
  return {
    agent_upload_p50_ms: { changed: phase(uploads, 1, 1 + n), same: phase(uploads, 1 + n, 1 + 2 * n) },
    agent_reload_p50_ms: { first: reloads[0] ?? null, changed: phase(reloads, 1, 1 + n), same: phase(reloads, 1 + n, 1 + 2 * n) },
    commands_p50_ms: Object.fromEntries(Object.entries(commands).map(([k, xs]) => [k, { n: xs.length, p50: median(xs) }])),
  };
}

/** Calls the reference's fake systemctl logged (enable/disable by the shell fast path, the rest by python). */
async function referenceSystemctlCalls(agent) {
  try {
    const text = await readFile(join(agent.agentDir, 'log', 'systemctl.calls'), 'utf8');
    const counts = {};
    for (const line of text.split('\n').filter(Boolean)) {
      const verb = line.split(/\s+/).find((w, i) => i > 0 && !w.startsWith('-')) ?? '?';
      counts[verb] = (counts[verb] ?? 0) + 1;
    }
    return counts;
  } catch {
    return null;
  }
}

/** Both agents started, then udp_client.py's pairs on both, interleaved: its answer, or undefined (and an error). */
async function runPairs(ctx, ref, ours, namespace, n, errors) {
  let out;
  try {
    log(`starting ${ref.label} and ${ours.label}`);
    await ref.start();
    await ours.start();
    log(`udp_upload_reload: ${n} changed + ${n} same pairs per agent, interleaved`);
    out = await runUdpClient(ctx, 'pairs', {
      agents: [
        { name: 'reference', base_url: ref.baseUrl, namespace: 'amphora-haproxy' },
        { name: 'ours', base_url: ours.baseUrl, namespace },
      ],
      listener_ids: [LISTENER],
      n,
    });
  } catch (err) {
    errors.push(err?.message ?? String(err));
    showLogTails(ref);
    showLogTails(ours);
  }
  return out;
}

/** The errors udp_client.py reported per agent, and the figures the report needs. */
function checkAnswers(out, fig, n, errors) {
  for (const role of ['reference', 'ours']) {
    const r = out?.agents?.[role];
    if (!r) continue;
    if (r.first_error) errors.push(`${role}: first upload+reload failed: ${r.first_error}`);
    const failed = (r.changed?.failures ?? 0) + (r.same?.failures ?? 0);
    if (failed > 0) errors.push(`${role}: ${failed} of ${2 * n} pairs failed (upload not 200 or reload not 202); first: ${r.errors.slice(0, 3).join(' || ')}`);
    if (r.cleanup !== 'DELETE ok') errors.push(`${role}: ${r.cleanup}`);
  }
  if (out) {
    for (const role of ['reference', 'ours']) {
      const missing = missingFigures(role, fig[role], REQUIRED);
      if (missing.length > 0) errors.push(`missing figures: ${missing.join(', ')}`);
    }
  }
}

/** Where our agent spent its time and what the reference's fake systemctl was asked, as notes. */
function breakdownNotes(breakdown, systemctl) {
  const notes = [];
  if (breakdown) {
    notes.push(
      `ours, server side p50 ms: upload changed ${breakdown.agent_upload_p50_ms.changed}, same ${breakdown.agent_upload_p50_ms.same}; ` +
        `reload first ${breakdown.agent_reload_p50_ms.first}, changed ${breakdown.agent_reload_p50_ms.changed}, same ${breakdown.agent_reload_p50_ms.same}`,
    );
    notes.push(`ours, commands run (count, p50 ms): ${Object.entries(breakdown.commands_p50_ms).map(([k, v]) => `${k} ×${v.n} ${v.p50}`).join('; ')}`);
  }
  if (systemctl) notes.push(`reference, fake systemctl calls: ${Object.entries(systemctl).map(([k, v]) => `${k} ×${v}`).join(', ')}`);
  return notes;
}

export async function run(ctx) {
  const n = envInt('BENCH_N_UDP', 50);
  const settle = envNumber('BENCH_UDP_SETTLE', null);
  const namespace = await testNamespace(ctx);
  const params = {
    n,
    listener_id: LISTENER,
    config: 'octavia-client.py render-udp --disabled (no virtual_server: no IPVS here); changed = two variants differing in a comment line',
    ours_namespace: namespace,
    // unset: the agent's default (0.5 s)
    ours_process_settle_seconds: settle,
    interleaved: true,
  };
  const ref = await referenceAgent(ctx, { name: 'udp', mode: 'systemd', topology: 'SINGLE' });
  const settings = { amphora_agent: { network_namespace: namespace } };
  if (params.ours_process_settle_seconds !== null) settings.amphora_agent.process_settle_seconds = params.ours_process_settle_seconds;
  const ours = await ourAgent(ctx, { name: 'udp', settings });

  const errors = [];
  const out = await runPairs(ctx, ref, ours, namespace, params.n, errors);

  const fig = { reference: figures(out?.agents?.reference), ours: figures(out?.agents?.ours) };
  checkAnswers(out, fig, params.n, errors);

  const breakdown = await ourBreakdown(ours.logFile, params.n);
  const systemctl = await referenceSystemctlCalls(ref);
  const notes = breakdownNotes(breakdown, systemctl);

  // Stop both now: the next suites should not share the host with them.
  await ours.stop().catch((e) => errors.push(`stopping ours: ${e.message}`));
  await ref.stop().catch((e) => errors.push(`stopping the reference: ${e.message}`));

  return {
    params,
    agents: { reference: ref.label, ours: ours.label },
    reference: fig.reference,
    ours: fig.ours,
    ...compare(fig.reference, fig.ours, TARGETS),
    breakdown: { ours: breakdown, reference_systemctl_calls: systemctl },
    notes,
    errors,
  };
}
