/**
 * @module bench/lib/heartbeat-python
 * The python sides of the heartbeat suite, each one long-lived process that imports
 * python3-octavia once (slow on a busy host), says READY on stderr, then serves one request per
 * stdin line with one JSON line on stdout: bench/heartbeat_ref.py (the reference's own heartbeat
 * code: timed builds, or its sender loop) and bench/heartbeat_client.py (the controller's calls to
 * our agent). Each is killed at cleanup if still running.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { assertNotAborted } from './processes.mjs';
import { REPO, TOOLS } from './shared-tools.mjs';
import { log } from './log.mjs';

const PYTHON = '/usr/bin/python3';

/** `script args…` under /usr/bin/python3, serving JSON lines; `ready` resolves at its READY. */
export async function pythonServer(ctx, label, args) {
  assertNotAborted(label);
  const child = spawn(PYTHON, args, { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
  ctx.cleanup.add(`stop ${label}`, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const waiting = [];
  let stderr = '';
  let exited;
  const failure = () => new Error(`${label} exited (${exited}): ${stderr.trim().split('\n').slice(-5).join(' | ')}`);
  createInterface({ input: child.stdout }).on('line', (line) => {
    const next = waiting.shift();
    try {
      next?.resolve(JSON.parse(line));
    } catch {
      next?.reject(new Error(`${label} answered no JSON: ${line.slice(0, 300)}`));
    }
  });
  const ready = new Promise((resolve, reject) => {
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderr += `${line}\n`;
      if (line === 'READY') resolve();
      else if (!line.startsWith('READY')) process.stderr.write(`  [${label}] ${line}\n`);
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      exited = code ?? signal;
      reject(failure());
      for (const w of waiting.splice(0)) w.reject(failure());
    });
  });
  ready.catch(() => {}); // awaited by whoever uses it
  return {
    pid: child.pid,
    ready,
    /** Writes `line`; resolves with the JSON line it answers. */
    request(line) {
      if (exited !== undefined) return Promise.reject(failure());
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin.write(`${line}\n`);
      });
    },
    stderr: () => stderr,
  };
}

async function specFile(ctx, name, spec) {
  const file = join(ctx.tmp.dir, `${name}.json`);
  await writeFile(file, JSON.stringify(spec));
  return file;
}

/** heartbeat_ref.py build: `build(n)` times n builds (after one untimed), 1 interval apart. */
export async function referenceBuilds(ctx, spec) {
  const server = await pythonServer(ctx, 'heartbeat_ref build', [join(REPO, 'bench', 'heartbeat_ref.py'), 'build', await specFile(ctx, 'heartbeat-ref-build', spec)]);
  return { ...server, build: (n) => server.request(String(n)) };
}

/** heartbeat_ref.py sender: run_sender() from `start()` until `stop()`. */
export async function referenceSender(ctx, spec) {
  const server = await pythonServer(ctx, 'heartbeat_ref sender', [join(REPO, 'bench', 'heartbeat_ref.py'), 'sender', await specFile(ctx, 'heartbeat-ref-sender', spec)]);
  let stopped;
  return {
    ...server,
    start() {
      stopped = server.request('start');
    },
    async stop() {
      server.request('shutdown').catch(() => {}); // answered by the loop's end, below
      const out = await stopped;
      return { ...out, stderr: server.stderr() };
    },
  };
}

/** heartbeat_client.py against our agent: `call(command)` resolves with its answer, or throws with its errors. */
export async function heartbeatClient(ctx, agent, namespace) {
  const common = { certs: ctx.pki.dir, amphora_id: ctx.pki.amphoraId, tools: TOOLS, agents: [{ name: 'ours', base_url: agent.baseUrl, namespace }] };
  const server = await pythonServer(ctx, 'heartbeat_client', [join(REPO, 'bench', 'heartbeat_client.py'), await specFile(ctx, 'heartbeat-client', common)]);
  return {
    ready: server.ready,
    async call(command) {
      await server.ready;
      const out = await server.request(JSON.stringify(command));
      if (out.errors.length > 0) throw new Error(`heartbeat_client.py ${command.cmd}: ${out.errors.slice(0, 3).join(' || ')}`);
      if (out.seconds > 10) log(`heartbeat_client.py ${command.cmd} took ${out.seconds} s`);
      return out;
    },
  };
}
