/**
 * @module test/support/commands
 * Running a command to its end from a test: its exit code and output as a Result (`sh`), or an
 * error carrying that output (`must`), and `show` to put a Result into a failure message. It
 * does not interpret any command's output.
 */
import { execFile } from 'node:child_process';

export interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ShOptions {
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** The working directory; the test process's own when not given. */
  cwd?: string;
}

/** Runs a command to its end; never throws on a non-zero exit (the code is in the result). */
export function sh(cmd: string, args: readonly string[], opts: ShOptions = {}): Promise<Result> {
  return new Promise((ok, fail) => {
    const options = { timeout: opts.timeoutMs ?? 60_000, env: opts.env ?? process.env, encoding: 'utf8' as const, ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }) };
    const child = execFile(cmd, [...args], options, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return fail(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      ok({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export const show = (r: Result): string => `exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;

/** Like `sh`, but a non-zero exit is an error carrying the output. */
export async function must(cmd: string, args: readonly string[]): Promise<Result> {
  const r = await sh(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${show(r)}`);
  return r;
}
