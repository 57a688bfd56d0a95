/**
 * @module test/e2e/guest/lib/controller
 * The Octavia controller of the run: one long-lived guest/controller.py (the real
 * AmphoraAPIClient1_0 and Octavia's own templaters), started once by the runner. Calls on the
 * agents through it, renders listener configs with it, and pushes a listener change the way
 * the controller does (upload, then reload). It is also the health manager's receiving end for
 * the agents' heartbeats (lib/heartbeats.mjs).
 */
import { join } from 'node:path';
import { GUEST, HOST_ROOT, HOST_WORK, LOGS, PY, WORK } from './context.mjs';
import { LineChild } from './line-child.mjs';
import { AGENTS, HEARTBEAT } from './topology.mjs';

/** The controller process; undefined until startController(). */
export let controller;

/**
 * Starts controller.py; the promise settles when it has imported Octavia, made its clients and
 * bound the heartbeat port (lib/heartbeats.mjs reads what it receives there).
 */
export function startController() {
  const script = join(GUEST, 'controller.py');
  // an image's root has no Octavia: the host's Python in the host's root, where the PKI is at its host path.
  // Importing Octavia takes ~25 s in a quiet guest; beside other VMs (host load 15) it outlived 180 s: a bound against a hang
  controller = HOST_ROOT
    ? new LineChild('controller', '/bin/bash', [join(GUEST, 'host-python.sh'), script], join(LOGS, 'controller.log'))
    : new LineChild('controller', PY, [script], join(LOGS, 'controller.log'));
  return controller.request({ certs: join(HOST_ROOT ? HOST_WORK : WORK, 'pki'), retries: 60, retry_interval: 1, agents: AGENTS, heartbeat: HEARTBEAT }, 600_000);
}

export async function call(agent, method, ...args) {
  const t = performance.now();
  const r = await controller.request({ op: 'call', agent, method, args });
  r.ms = Math.round(performance.now() - t);
  return r;
}
export async function render(listener) {
  const r = await controller.request({ op: 'render_lvs', listener });
  if (!r.ok) throw new Error(`render failed: ${r.error}`);
  return r.text;
}
/** What the controller does for every listener change: upload the rendered config, then reload. */
export async function pushListener(agentName, listener) {
  const text = await render(listener);
  const up = await call(agentName, 'upload_udp_config', listener.listener_id, text);
  if (!up.ok) return { ok: false, step: 'upload', ...up };
  const rl = await call(agentName, 'reload_listener', listener.listener_id);
  return { ok: rl.ok, upload: up, reload: rl, uploadMs: up.ms, reloadMs: rl.ms, detail: rl.body?.details ?? rl.body?.message ?? rl.error };
}
