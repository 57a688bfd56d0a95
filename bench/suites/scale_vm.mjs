/**
 * Suite "scale_vm" (opt-in: BENCH_SUITES=scale_vm; it boots the User-Mode Linux VM of test/e2e,
 * whose kernel has IPVS, with mem=1024M): issue 15 item 1 in the VM, the part the host's `scale`
 * suite cannot do. N UDP listeners (BENCH_SCALE_VM_COUNTS, 1,50,200) with 10 members each that
 * answer UDP, a UDP-CONNECT health monitor on, on our agent started by its own systemd unit; the
 * reference agent is not in the VM image, so this suite has no reference side.
 *
 * The measurement is the e2e tier's opt-in scenario `scale` (test/e2e/guest/scenarios/scale.mjs),
 * run with `test/e2e/run.mjs --only scale`: it reuses that tier's boot, controller (the real
 * AmphoraAPIClient1_0 and Octavia's templaters), agent unit, network and mTLS client, where a
 * --probe script (as healthcheck_cpu's) would have to start and drive an agent of its own. The
 * suite passes its knobs as E2E_SCALE_*, reads the E2E-REPORT line and derives the costs per
 * listener. BENCH_SCALE_VM_API: 2.0 (the default: PUT /2.0/listeners, the agent's render, UDP-CONNECT
 * as keepalived's UDP_CHECK) or 1.0 (the controller's render through the Octavia client,
 * MISC_CHECK running udp_check.sh).
 */
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envInt } from '../lib/knobs.mjs';
import { log } from '../lib/log.mjs';
import { runCommand } from '../lib/processes.mjs';
import { compare } from '../lib/report.mjs';
import { SHARED } from '../lib/shared-tools.mjs';
import { round, slope } from '../lib/stats.mjs';

export const name = 'scale_vm';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** keepalived PSS per idle listener on this host (the `scale` suite, bench/README.md), for comparison. */
const HOST_IDLE_KEEPALIVED_PSS_MIB = 1.42;

/** Figures per N copied from the scenario, and the names they get here. */
const PER_N = {
  pss_total_mib: 'pss_total_mib',
  harness_pss_mib: 'harness_pss_mib',
  systemd_pss_mib: 'systemd_pss_mib',
  journald_pss_mib: 'journald_pss_mib',
  agent_pss_mib: 'agent_pss_mib',
  agent_rss_mib: 'agent_rss_mib',
  keepalived_pss_mib: 'keepalived_pss_mib',
  keepalived_rss_mib: 'keepalived_rss_mib',
  keepalived_uss_mib: 'keepalived_uss_mib',
  keepalived_pss_anon_mib: 'keepalived_pss_anon_mib',
  keepalived_procs: 'keepalived_procs',
  MemTotal_mib: 'mem_total_mib',
  MemAvailable_mib: 'mem_available_mib',
  Shmem_mib: 'shmem_mib',
  Slab_mib: 'slab_mib',
  ipvs_virtual_servers: 'ipvs_virtual_servers',
  ipvs_real_servers: 'ipvs_real_servers',
  guest_cpu_busy_pct: 'guest_cpu_busy_pct',
  member_datagrams_per_s: 'member_datagrams_per_s',
  create_s: 'create_s',
  put_p50_ms: 'put_p50_ms',
  upload_p50_ms: 'upload_p50_ms',
  reload_p50_ms: 'reload_p50_ms',
  list_p50_ms: 'list_p50_ms',
  check_p50_ms: 'check_p50_ms',
  hb_build_p50_ms: 'hb_build_p50_ms',
};

export async function run() {
  const params = {
    counts: process.env.BENCH_SCALE_VM_COUNTS ?? '1,50,200',
    api: process.env.BENCH_SCALE_VM_API === '1.0' ? '1.0' : '2.0',
    members: 10,
    delay: envInt('BENCH_SCALE_VM_DELAY', 10),
    timeout: 5,
    max_retries: 3,
    guest_mem_mib: 1024,
    // PUTs at once while making listeners, and DELETEs at once at the end (1: the controller's pace)
    parallel: envInt('BENCH_SCALE_VM_PARALLEL', 1),
    delete_parallel: envInt('BENCH_SCALE_VM_DELETE_PARALLEL', 1),
  };
  const env = {
    // the same shared tools (gen-certs.sh) as the bench's own
    AMPHORA_SHARED: SHARED,
    E2E_MEM: String(params.guest_mem_mib),
    E2E_SCALE_COUNTS: params.counts,
    E2E_SCALE_API: params.api,
    E2E_SCALE_MEMBERS: String(params.members),
    E2E_SCALE_DELAY: String(params.delay),
    E2E_SCALE_TIMEOUT: String(params.timeout),
    E2E_SCALE_RETRIES: String(params.max_retries),
    E2E_SCALE_PARALLEL: String(params.parallel),
    E2E_SCALE_DELETE_PARALLEL: String(params.delete_parallel),
  };
  const limit = envInt('BENCH_SCALE_VM_TIMEOUT', 10800);
  log(`scale_vm: booting the VM (test/e2e/run.mjs --only scale), counts ${params.counts}, API ${params.api}, limit ${limit} s`);
  const r = await runCommand(process.execPath, [join(REPO, 'test', 'e2e', 'run.mjs'), '--only', 'scale', '--timeout', String(limit)], { env });
  const line = r.stdout.split('\n').findLast((l) => l.startsWith('E2E-REPORT '));
  if (!line) throw new Error(`test/e2e/run.mjs printed no E2E-REPORT (exit ${r.code}): ${r.stdout.split('\n').slice(-30).join('\n')}`);
  return summarize(JSON.parse(line.slice('E2E-REPORT '.length)), params);
}

/** The suite's result from run.mjs's report; exported so that a saved report can be read again. */
export function summarize(report, params) {
  const errors = [];
  const notes = [];
  const sc = report.scenarios?.scale;
  if (!sc) return { params, agents: {}, reference: {}, ours: {}, ratios: {}, targets: {}, notes, errors: [`no scale scenario in the report: ${report.error ?? ''}`] };
  if (sc.status !== 'passed') errors.push(...(sc.failures ?? [`scenario ${sc.status}: ${sc.reason ?? ''}`]).map((f) => `guest: ${f}`));
  const figs = sc.figures;
  const ns = Object.keys(figs).filter((k) => /^n\d+$/.test(k)).map((k) => Number(k.slice(1))).sort((a, b) => a - b);
  const ours = {};
  for (const n of ns) {
    for (const [from, to] of Object.entries(PER_N)) if (figs[`n${n}`][from] !== undefined) ours[`${to}_n${n}`] = figs[`n${n}`][from];
  }
  const del = figs.delete_all;
  if (del) {
    ours[`delete_all_s_n${del.n}`] = del.delete_all_s;
    ours[`delete_p50_ms_n${del.n}`] = del.delete_p50_ms;
    notes.push(`deleted ${del.parallel ?? 1} at a time (${del.via ?? 'controller client'}); after deleting all ${del.n}: ${JSON.stringify(del.after)}`);
  }
  const top = ns.at(-1);
  const base = figs.baseline ?? {};
  if (top !== undefined) {
    // the costs per listener: slopes over N, and what the top N holds per listener
    for (const key of ['pss_total_mib', 'keepalived_pss_mib', 'keepalived_rss_mib', 'keepalived_pss_anon_mib', 'agent_rss_mib', 'agent_pss_mib', 'systemd_pss_mib', 'mem_available_mib']) {
      const s = slope(ns.map((n) => [n, ours[`${key}_n${n}`]]));
      ours[`${key}_per_listener`] = s === null ? null : round(s, 4);
    }
    const t = figs[`n${top}`];
    if (t.keepalived_parents > 0) {
      ours[`keepalived_pss_mib_each_n${top}`] = round(t.keepalived_pss_mib / t.keepalived_parents, 3);
      ours[`keepalived_rss_mib_each_n${top}`] = round(t.keepalived_rss_mib / t.keepalived_parents, 3);
      ours[`keepalived_pss_anon_mib_each_n${top}`] = round(t.keepalived_pss_anon_mib / t.keepalived_parents, 3);
      ours[`keepalived_procs_each_n${top}`] = round(t.keepalived_procs / t.keepalived_parents, 2);
    }
    if (typeof base.MemAvailable_mib === 'number' && typeof t.MemAvailable_mib === 'number') ours[`mem_available_drop_mib_each_n${top}`] = round((base.MemAvailable_mib - t.MemAvailable_mib) / top, 3);
    if (typeof ours.keepalived_pss_mib_per_listener === 'number') {
      notes.push(`keepalived PSS per listener with ${params.members} members and a running checker: ${ours.keepalived_pss_mib_per_listener} MiB (slope), against ${HOST_IDLE_KEEPALIVED_PSS_MIB} MiB for an idle listener on the host (scale suite): +${round(ours.keepalived_pss_mib_per_listener - HOST_IDLE_KEEPALIVED_PSS_MIB, 3)} MiB`);
    }
  }
  if (figs.stopped_after_n !== undefined) notes.push(`the ladder stopped after n=${figs.stopped_after_n}`);
  if ((figs.oom_lines ?? []).length > 0) notes.push(`kernel OOM lines: ${figs.oom_lines.join(' | ')}`);
  notes.push(`params in the guest: ${JSON.stringify(figs.params)}; baseline before any listener: ${JSON.stringify(base)}`);
  for (const n of ns) {
    const f = figs[`n${n}`];
    notes.push(`n=${n}: list statuses ${JSON.stringify(f.list_statuses ?? null)}, check script ${f.check_script ?? '—'} exits ${JSON.stringify(f.check_exits ?? null)}, heartbeat builds ${JSON.stringify(f.hb_builds ?? null)}, checks due ${f.checks_due_per_s}/s`);
  }
  notes.push(`guest: ${JSON.stringify(report.guest ?? null)}; host load while it ran: ${JSON.stringify(report.load?.host ?? null)}; VM wall ${report.wall_seconds} s`);
  // no reference side: the reference agent is not in the VM image
  const reference = Object.fromEntries(Object.keys(ours).map((k) => [k, null]));
  return {
    params,
    agents: { reference: 'not run: the reference agent is not in the VM image', ours: `our agent (systemd unit) in the UML VM, API ${params.api}` },
    reference,
    ours,
    ...compare(reference, ours, {}),
    notes,
    errors,
  };
}
