/**
 * @module bench/lib/processes
 * Child processes of the bench: running a command to its end (every running child is known,
 * so that a signal handler can stop them and refuse new ones), quoting for the shell commands
 * measure.py runs, free and listening ports on 127.0.0.1, and finding processes by name.
 */
import { spawn } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

/** Single-quote for /bin/sh: measure.py runs --start-cmd and friends through a shell. */
export function sh(word) {
  return `'${String(word).replaceAll("'", "'\\''")}'`;
}

/** Children currently running, so that abortChildren() can stop them. */
const activeChildren = new Set();
let aborted = false;

/**
 * For a signal handler: SIGTERM the running children (measure.py) and refuse to start new
 * agents or measurements, so that a suite still unwinding cannot launch one during cleanup.
 */
export function abortChildren() {
  aborted = true;
  for (const child of activeChildren) child.kill('SIGTERM');
}

export function assertNotAborted(what) {
  if (aborted) throw new Error(`aborted: not starting ${what}`);
}

/** True once abortChildren() was called: a suite unwinding then skips what only explains a failure. */
export function isAborted() {
  return aborted;
}

/**
 * Run a command to completion. stdout is collected; stderr is collected and, with `prefix`,
 * also echoed line by line to our stderr (measure.py reports its progress there).
 */
export function runCommand(cmd, args, { env, cwd, prefix } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    activeChildren.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderr += `${line}\n`;
      if (prefix) process.stderr.write(`${prefix} ${line}\n`);
    });
    child.on('error', (err) => {
      activeChildren.delete(child);
      reject(err);
    });
    child.on('close', (code, signal) => {
      activeChildren.delete(child);
      resolve({ code: code ?? (signal ? 128 : 1), signal, stdout, stderr });
    });
  });
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function portAccepts(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A listening socket on `port` inside network namespace `netns` (ss there; we cannot connect from here). */
async function listensIn(netns, port) {
  const res = await runCommand('ip', ['netns', 'exec', netns, 'ss', '-Hltn', `sport = :${port}`]);
  return res.code === 0 && res.stdout.trim() !== '';
}

/** Waits until 127.0.0.1:`port` accepts connections, here or, with `netns`, in that namespace. */
export async function waitForPort(port, timeoutMs, netns = null) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (netns === null ? await portAccepts(port) : await listensIn(netns, port)) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}${netns === null ? '' : ` in ${netns}`} after ${timeoutMs / 1000}s`);
}

export function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes whose comm is `comm` and whose command line mentions `needle` (a path of ours). */
export async function findProcesses(comm, needle) {
  const found = [];
  for (const d of await readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if ((await readFile(`/proc/${d}/comm`, 'utf8')).trim() !== comm) continue;
      const cmdline = (await readFile(`/proc/${d}/cmdline`, 'utf8')).replaceAll('\0', ' ');
      if (cmdline.includes(needle)) found.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
