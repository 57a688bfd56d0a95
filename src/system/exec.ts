/**
 * @module system/exec
 * The ProcessRunner seam: the only file that imports execa. Commands are argv arrays, never
 * shell strings; `netns` adds the `ip netns exec <ns>` prefix (system/netns-exec.ts, with the
 * configured ip_cmd); there is always a timeout (the configured command_timeout, read live); a failure becomes `CommandFailed` with the argv, exit code and output tail.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Logger } from '../log.js';
import { CommandFailed } from '../model/errors.js';
import { netnsExec } from './netns-exec.js';

export interface RunOptions {
  /** Run inside this network namespace (`ip netns exec <ns> …`). */
  readonly netns?: string;
  readonly timeoutMs?: number;
  /** Data written to the command's standard input. */
  readonly input?: string;
  /** Return a non-zero exit instead of throwing `CommandFailed`. */
  readonly allowFailure?: boolean;
}

export interface RunResult {
  readonly argv: readonly string[];
  /** `undefined` when the command could not be started or was killed. */
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr interleaved as the command wrote them. */
  readonly output: string;
}

/** How a spawned process ended: its exit code, or the signal that killed it. */
export interface ProcessExit {
  readonly exitCode: number | null;
  readonly signal: string | null;
}

export interface SpawnOptions {
  readonly netns?: string;
  /**
   * stdout and stderr are appended to this file by the process itself: it inherits a descriptor
   * opened with O_APPEND, so its output does not depend on the agent (which may restart) and
   * the log can be rotated by copy-truncate (system/log-rotation.ts), as under an init system.
   */
  readonly logFile: string;
  /**
   * Called once when the spawned process exits while the agent runs (not after an agent
   * restart: the process is no longer the agent's child then).
   */
  readonly onExit?: (exit: ProcessExit) => void;
}

export interface ProcessRunner {
  run(cmd: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /**
   * Starts a long-running daemon in its own session, detached from the agent so that it
   * survives an agent restart, and returns its pid. Used by the `direct` init adapter only.
   */
  spawnDetached(cmd: string, args: readonly string[], options: SpawnOptions): Promise<number>;
}

const OUTPUT_TAIL = 4000;

/**
 * execa is loaded on the first command, not at startup: the agent must answer the controller's
 * first `GET //` as soon as it can, and no command runs before that.
 */
let execaModule: Promise<typeof import('execa')> | undefined;
const loadExeca = () => (execaModule ??= import('execa'));

export function outputTail(text: string, max = OUTPUT_TAIL): string {
  return text.length <= max ? text : `…${text.slice(-max)}`;
}

/**
 * Whether `ip netns exec` said it could not start `cmd` (not installed): it exits 1 with that
 * one line, where a command run without a namespace fails with ENOENT. Both read as "could
 * not start" (exitCode undefined), so a caller's fallback for a missing tool (e.g. masquerade
 * without nft) works the same inside the amphora namespace.
 */
export function notFoundInNetns(cmd: string, exitCode: number | undefined, stderr: string): boolean {
  return exitCode === 1 && stderr.trim() === `exec of "${cmd}" failed: No such file or directory`;
}

/** The command as it is run: inside `netns` through `ip netns exec` when one is given. */
export function withNetns(ipCmd: string, cmd: string, args: readonly string[], netns: string | undefined): [string, string[]] {
  const [file = cmd, ...argv] = netns ? netnsExec(ipCmd, netns, [cmd, ...args]) : [cmd, ...args];
  return [file, argv];
}

/** What the runner reads from the live configuration at each command. */
export interface RunnerSettings {
  readonly ipCmd: string;
  readonly timeoutMs: number;
}

export class ExecaRunner implements ProcessRunner {
  private readonly settings: () => RunnerSettings;

  /** `settings`: read at each command; a number is a fixed timeout with `ip` from PATH (tests, dev-mode PKI). */
  constructor(
    private readonly log: Logger,
    settings: (() => RunnerSettings) | number,
  ) {
    this.settings = typeof settings === 'number' ? () => ({ ipCmd: 'ip', timeoutMs: settings }) : settings;
  }

  async run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const { ipCmd, timeoutMs } = this.settings();
    const [file, argv] = withNetns(ipCmd, cmd, args, options.netns);
    const { execa } = await loadExeca();
    const started = performance.now();
    const result = await execa(file, argv, {
      reject: false,
      all: true,
      timeout: options.timeoutMs ?? timeoutMs,
      stripFinalNewline: false,
      ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
      env: { LC_ALL: 'C' },
    });
    const full = [file, ...argv];
    // A command that could not start (ENOENT) or was killed has no output of its own: say why.
    const why = result.failed && result.exitCode === undefined ? (result.shortMessage ?? 'failed to run') : '';
    const output = String(result.all ?? '') || why;
    const exitCode = options.netns && notFoundInNetns(cmd, result.exitCode, String(result.stderr ?? '')) ? undefined : result.exitCode;
    this.log.debug({ argv: full, exitCode, ms: Math.round(performance.now() - started) }, 'command');
    const run: RunResult = { argv: full, exitCode, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''), output };
    if (exitCode !== 0 && !options.allowFailure) {
      throw new CommandFailed(full, exitCode, outputTail(output || (result.shortMessage ?? '')));
    }
    return run;
  }

  async spawnDetached(cmd: string, args: readonly string[], options: SpawnOptions): Promise<number> {
    const [file, argv] = withNetns(this.settings().ipCmd, cmd, args, options.netns);
    // A descriptor, not a pipe the agent reads and copies into the file: with a pipe, the
    // daemon's output would stop reaching its log when the agent exits.
    // O_NOFOLLOW: a link planted at the log's name is refused, not followed as root
    const log = await open(options.logFile, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW, 0o644);
    let child;
    try {
      // node's spawn, not execa's: the daemon outlives this call, and an execa subprocess keeps its
      // promises and streams for as long (about 68 KiB per daemon: 14 MiB at 200 listeners)
      child = spawn(file, argv, { detached: true, stdio: ['ignore', log.fd, log.fd], env: { ...process.env, LC_ALL: 'C' } });
      // Its exit is reported to the caller (the direct adapter, so that a daemon dying at start
      // fails the start at once); a later agent sees only its pid file. Listening before anything
      // is awaited: a daemon that dies at once must not exit unheard.
      child.once('exit', (exitCode, signal) => options.onExit?.({ exitCode, signal }));
      child.once('error', (err: unknown) => this.log.debug({ err, argv: [file, ...argv] }, 'detached process ended'));
      child.unref();
    } finally {
      // the child has its own copy once spawned
      await log.close();
    }
    const pid = child.pid;
    if (pid === undefined) throw new CommandFailed([file, ...argv], undefined, 'could not start the process');
    this.log.debug({ argv: [file, ...argv], pid }, 'spawned detached');
    return pid;
  }
}
