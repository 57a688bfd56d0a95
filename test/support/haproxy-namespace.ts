/**
 * @module test/support/haproxy-namespace
 * The setup the integration files that run the real haproxy share: a network namespace of the
 * test's own with the VIP on its loopback, small HTTP backends started inside it (each answers
 * every GET with a body of the test's choosing), the agent's services over the `direct` init
 * adapter with every file under the test's temporary directory, and the teardown. haproxy and
 * the backends all run inside the namespace, so deleting it stops them by pid: nothing here
 * needs to remember a process. It owns no assertion: the tests say what they expect.
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { unitRenderer } from '../../src/render/init-units.js';
import type { Logger } from '../../src/log.js';
import type { Uuid } from '../../src/model/uuid.js';
import type { ProcessRunner } from '../../src/system/exec.js';
import { createInitSystem } from '../../src/system/init/detect.js';
import type { Paths } from '../../src/system/paths.js';
import { must, sh } from './commands.js';
import { addNetns, deleteNetns } from './netns.js';
import { SYSTEM_PYTHON } from './octavia-templaters.js';
import { readPidFile } from './processes.js';
import { serviceHarness } from './service-harness.js';
import { waitFor } from './wait-for.js';

/** A tiny HTTP server on 127.0.0.1:argv[1] that answers every GET with argv[2]. */
const BACKEND = `
import http.server, sys
body = sys.argv[2].encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
`;

export interface Backend {
  readonly port: number;
  /** What it answers, so a request through the VIP shows which backend served it. */
  readonly body: string;
  /** What the wait for it is called in a timeout message. */
  readonly label: string;
}

/** Starts one backend inside `ns` and waits until it answers there. */
export async function startBackend(ns: string, backend: Backend): Promise<void> {
  // runs in the test's namespace: deleteNetns stops it by pid
  spawn('ip', ['netns', 'exec', ns, SYSTEM_PYTHON, '-c', BACKEND, String(backend.port), backend.body], { stdio: 'ignore', detached: true }).unref();
  const answers = async () => (await sh('ip', ['netns', 'exec', ns, 'curl', '-s', `http://127.0.0.1:${backend.port}/`])).stdout === backend.body;
  await waitFor(backend.label, answers, 15_000);
}

/** Creates `ns` with `vip` on its loopback and starts the backends in it, one after another. */
export async function haproxyNamespace(ns: string, vip: string, backends: readonly Backend[]): Promise<void> {
  await addNetns(ns);
  await must('ip', ['-n', ns, 'addr', 'add', `${vip}/32`, 'dev', 'lo']);
  for (const backend of backends) await startBackend(ns, backend);
}

export interface DirectHarnessOptions {
  /** The test's temporary directory: base_path, certificates and the user-group file go under it. */
  readonly dir: string;
  readonly ns: string;
  readonly runner: ProcessRunner;
  readonly log: Logger;
  /** process_ready_timeout in seconds (10 unless the test needs a start to end another way). */
  readonly readyTimeoutSeconds?: number;
}

/** The agent's services for haproxy in `ns` under the `direct` adapter, every file under `dir`. */
export function directHaproxyHarness(options: DirectHarnessOptions) {
  const { dir, ns, runner, log, readyTimeoutSeconds = 10 } = options;
  return serviceHarness({
    configText:
      `[haproxy_amphora]\nbase_path = ${dir}/octavia\nbase_cert_dir = ${dir}/octavia/certs\n` +
      `[amphora_agent]\nnetwork_namespace = ${ns}\ninit_system = direct\nhaproxy_user_group_file = ${dir}/octavia/haproxy-default-user-group.conf\n` +
      `proc_dir = /proc\nprocess_settle_seconds = 0.3\nprocess_ready_timeout = ${readyTimeoutSeconds}\n`,
    runner,
    init: (p, config) => createInitSystem('direct', config, runner, p, log, unitRenderer),
    log,
  });
}

/** The pid of the load balancer's haproxy master, from its pid file; throws when there is none. */
export async function haproxyMasterPid(paths: Paths, lb: Uuid): Promise<number> {
  const pid = await readPidFile(paths.haproxyPidFile(lb));
  if (pid === undefined) throw new Error(`no haproxy pid file for ${lb}`);
  return pid;
}

/** Deletes the namespace (which stops haproxy and the backends by pid) and the temporary directory. */
export async function removeHaproxyNamespace(ns: string, dir: string | undefined): Promise<void> {
  await deleteNetns(ns);
  if (dir) await rm(dir, { recursive: true, force: true });
}
