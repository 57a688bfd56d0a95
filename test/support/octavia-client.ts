/**
 * @module test/support/octavia-client
 * Runs the shared `octavia-client.py`, which drives an agent with Octavia's real controller
 * client (AmphoraAPIClient1_0 from python3-octavia) under /usr/bin/python3. Exit codes: 0 OK,
 * 2 the agent answered an error status, 3 connection retries ran out (TLS and hostname failures
 * included).
 */
import { execFile } from 'node:child_process';
import { OCTAVIA_CLIENT, type TestPki } from './agent-fixture.js';

export const SYSTEM_PYTHON = '/usr/bin/python3';

export interface ClientRun {
  readonly argv: readonly string[];
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ClientOptions {
  readonly port: number;
  readonly pki: TestPki;
  /** Options placed before the subcommand, e.g. ['--client-cert', FILE, '--retries', '1']. */
  readonly options?: readonly string[];
  readonly timeoutMs?: number;
}

/** `octavia-client.py --base-url https://127.0.0.1:PORT --certs PKI [options] SUBCOMMAND ARGS…`; never rejects on exit codes. */
export function octaviaClient(o: ClientOptions, ...command: string[]): Promise<ClientRun> {
  const argv = [OCTAVIA_CLIENT, '--base-url', `https://127.0.0.1:${o.port}`, '--certs', o.pki.dir, ...(o.options ?? []), ...command];
  return new Promise((resolveRun, reject) => {
    execFile(SYSTEM_PYTHON, argv, { timeout: o.timeoutMs ?? 120_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(new Error(`${SYSTEM_PYTHON} ${argv.join(' ')} did not run to an exit code: ${err.message}\n${stderr}`));
        return;
      }
      resolveRun({ argv, code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

/** The JSON a `version`/`info`/`details` run printed; fails with the whole run when it is not JSON. */
export function printedJson(run: ClientRun): Record<string, unknown> {
  try {
    return JSON.parse(run.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`octavia-client.py printed no JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}

/** Exit code with the output, so that a failed expectation shows what the client said. */
export function outcome(run: ClientRun): string {
  return `exit ${run.code}\n${run.stdout}${run.stderr}`;
}
