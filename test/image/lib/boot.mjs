/**
 * @module test/image/lib/boot
 * Boots a built amphora image under qemu (TCG) as Nova would boot it for Octavia 11 (a config drive
 * with the controller's files, see config-drive.mjs) and checks it: the agent over mutual TLS from
 * the host (boot-to-agent time: qemu start -> first `GET /` answered), the agent's API driving
 * haproxy and an LVS keepalived (api-checks.mjs), and what only a look inside can show (PID 1,
 * IPVS, tc modules, unit states, versions: guest/probe.sh through the config drive's user_data,
 * results on the serial console). Everything has one deadline (timeoutSeconds); qemu is always
 * stopped (its process group) and the console's tail is logged on failure.
 *
 * bootAndCheck({ qcow2, workDir, log, timeoutSeconds = 900, smp = 2, memMiB = 2048, shared })
 *   -> { ok, boot_to_agent_seconds, probe_seconds, distribution, versions, checks, info,
 *        agent_conf_source, diagnostics (failed units, network, cloud-init's complaints, the agent's
 *        log, systemd-analyze blame: from the probe), console_log }
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentNotAnswering, agentRequest } from './agent-https.mjs';
import { apiChecks } from './api-checks.mjs';
import { controllerFiles, controllerTexts, makeConfigDrive, withProbe } from './config-drive.mjs';
import { parseProbe, probeChecks, probeFacts } from './probe-results.mjs';
import { MGMT_MAC, consoleTail, freePort, makeOverlay, startQemu } from './qemu.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..', '..');
const AMPHORA_ID = '13131313-2222-4333-8444-555555555555';
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** The shared test PKI (gen-certs.sh: server cert for the amphora id, controller client cert, a rogue one). */
function makePki(shared, dir) {
  const script = join(shared, 'tools', 'octavia-ref', 'gen-certs.sh');
  if (!existsSync(script)) throw new Error(`${script} not found (set AMPHORA_SHARED to the shared tools' parent)`);
  execFileSync('bash', [script, dir, AMPHORA_ID], { stdio: ['ignore', 'pipe', 'pipe'] });
  return dir;
}

/**
 * Polls `GET /` until it is answered 200; answers seconds since qemu started. Gives up at the
 * deadline, or AGENT_GRACE_MS after the guest probe ended (cloud-init is done by then: an agent
 * still silent is not coming, and the failure is reported minutes sooner).
 */
const AGENT_GRACE_MS = 120_000;
async function waitForAgent(vm, req, { deadline, consoleLog, log }) {
  let last = '';
  let probeEndedAt = null;
  while (Date.now() < deadline && (probeEndedAt === null || Date.now() - probeEndedAt < AGENT_GRACE_MS)) {
    if (!vm.running()) throw new Error('qemu exited before the agent answered');
    const why = await agentNotAnswering(req);
    if (why === null) return (performance.now() - vm.startedAt) / 1000;
    last = why;
    log.verbose?.(`agent not answering yet (${last})`);
    if (probeEndedAt === null && parseProbe(consoleLog).end) probeEndedAt = Date.now();
    await sleep(1000);
  }
  const why = probeEndedAt === null ? 'before the deadline' : `${AGENT_GRACE_MS / 1000} s after cloud-init's final stage ran the probe`;
  throw new Error(`the agent did not answer GET / ${why} (last: ${last})`);
}

/** Waits for the probe's `end` line on the console; answers the parsed results (partial on timeout). */
async function waitForProbe(vm, consoleLog, deadline) {
  for (;;) {
    const r = parseProbe(consoleLog);
    if (r.end || Date.now() > deadline || !vm.running()) return r;
    await sleep(2000);
  }
}

/** Work dir contents: pki/, drive/ (the config drive tree), config-2.iso, overlay.qcow2, console.log, qemu.log. */
function prepare({ qcow2, workDir, shared }) {
  const pki = makePki(shared, join(workDir, 'pki'));
  const texts = controllerTexts({ amphoraId: AMPHORA_ID });
  const probe = readFileSync(join(REPO, 'test', 'image', 'guest', 'probe.sh'), 'utf8');
  const drive = makeConfigDrive({
    dir: join(workDir, 'drive'),
    iso: join(workDir, 'config-2.iso'),
    amphoraId: AMPHORA_ID,
    files: controllerFiles({ pki, texts }),
    userData: withProbe(texts.user_data, probe),
    mgmtMac: MGMT_MAC,
  });
  const overlay = join(workDir, 'overlay.qcow2');
  makeOverlay(qcow2, overlay);
  return { pki, texts, drive, overlay };
}

export async function bootAndCheck({ qcow2, workDir, log, timeoutSeconds = 900, smp = 2, memMiB = 2048, shared }) {
  const deadline = Date.now() + timeoutSeconds * 1000;
  mkdirSync(workDir, { recursive: true });
  const consoleLog = join(workDir, 'console.log');
  const result = { ok: false, boot_to_agent_seconds: null, probe_seconds: null, distribution: null, versions: {}, checks: [], console_log: consoleLog };
  const add = (name, ok, detail) => {
    result.checks.push({ name, ok: Boolean(ok), detail });
    log.info(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok ? '' : `: ${detail}`}`);
  };
  const { pki, texts, overlay } = prepare({ qcow2, workDir, shared: shared || process.env.AMPHORA_SHARED || resolve(REPO, '..', 'shared') });
  result.agent_conf_source = texts.source;
  log.info(`config drive ready (agent config rendered by ${texts.source}); booting ${qcow2} (TCG, ${smp} vCPU, ${memMiB} MiB)`);
  const port = await freePort();
  const target = { port, ca: readFileSync(join(pki, 'server_ca.pem')), clientPem: readFileSync(join(pki, 'client.pem')), servername: AMPHORA_ID };
  const req = (method, path, opts) => agentRequest(target, method, path, opts);
  const vm = startQemu({ overlay, iso: join(workDir, 'config-2.iso'), consoleLog, qemuLog: join(workDir, 'qemu.log'), port, memMiB, smp });
  const hard = setTimeout(() => vm.stop(), Math.max(0, deadline - Date.now()) + 30_000);
  try {
    try {
      result.boot_to_agent_seconds = Math.round((await waitForAgent(vm, req, { deadline, consoleLog, log })) * 10) / 10;
      add('the agent answers GET / over mutual TLS (server name = amphora id)', true, `after ${result.boot_to_agent_seconds} s from qemu's start`);
      result.info = await apiChecks({ req, amphoraId: AMPHORA_ID, rogueClientPem: readFileSync(join(pki, 'rogue_client.pem')), add });
    } catch (e) {
      add('the agent answers over mutual TLS and its API checks complete', false, e.message);
    }
    // The probe's results also explain an agent that never answered: read them either way.
    const probe = await waitForProbe(vm, consoleLog, deadline);
    if (probe.end) result.probe_seconds = Math.round((performance.now() - vm.startedAt) / 100) / 10;
    Object.assign(result, probeFacts(probe));
    result.diagnostics = Object.fromEntries(['failed_units', 'system_state', 'network', 'cloud_init_problems', 'agent_log', 'blame'].map((k) => [k, probe[k]?.out.trim() ?? null]));
    add('the guest probe ran to its end (cloud-init user_data from the config drive)', Boolean(probe.end), probe.end ? `at ${result.probe_seconds} s` : `results so far: ${Object.keys(probe).join(', ') || 'none'}`);
    for (const c of probeChecks(probe)) add(c.name, c.ok, c.detail);
  } finally {
    clearTimeout(hard);
    await vm.stop();
  }
  result.ok = result.checks.length > 0 && result.checks.every((c) => c.ok);
  if (!result.ok) {
    log.info(`console tail (${consoleLog}):\n${consoleTail(consoleLog)}`);
    for (const [k, v] of Object.entries(result.diagnostics ?? {})) if (v) log.info(`guest ${k}:\n${v}`);
  }
  return result;
}
