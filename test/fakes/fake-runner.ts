/**
 * @module test/fakes/fake-runner
 * A ProcessRunner for unit and API tests: records every call (with its standard input) and
 * answers from a script of replies matched on the argv; a reply function also sees the run's
 * options. An unscripted command answers like a missing binary (exit undefined), so a test
 * never runs anything on the host by accident.
 */
import { CommandFailed } from '../../src/model/errors.js';
import { withNetns, type ProcessRunner, type RunOptions, type RunResult, type SpawnOptions } from '../../src/system/exec.js';

export interface Reply {
  readonly exitCode?: number | undefined;
  readonly stdout?: string;
  readonly stderr?: string;
}

type Matcher = (argv: readonly string[]) => boolean;
type ReplyFn = (argv: readonly string[], options: RunOptions) => Reply;

/** One `run` call: the full argv (with any `ip netns exec NS` prefix), the namespace and the standard input. */
export interface RecordedRun {
  readonly argv: readonly string[];
  readonly netns: string | undefined;
  readonly input: string | undefined;
}

export class FakeRunner implements ProcessRunner {
  readonly calls: (readonly string[])[] = [];
  /** The same calls with their namespace and standard input. */
  readonly runs: RecordedRun[] = [];
  private readonly replies: { match: Matcher; length: number; reply: Reply | ReplyFn }[] = [];

  /** `ipCmd`: the `ip` the `netns` prefix names (the agent's ip_cmd; plain `ip` in these tests). */
  constructor(private readonly ipCmd = 'ip') {}

  /**
   * Reply to commands whose argv starts with `prefix` (after any `ip netns exec` prefix).
   * The longest matching prefix wins; among equals, the latest registered.
   */
  on(prefix: readonly string[], reply: Reply | ReplyFn): this {
    this.replies.unshift({ match: (argv) => prefix.every((p, i) => argv[i] === p), length: prefix.length, reply });
    this.replies.sort((a, b) => b.length - a.length);
    return this;
  }

  async run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const [file, rest] = withNetns(this.ipCmd, cmd, args, options.netns);
    const argv = [file, ...rest];
    this.calls.push(argv);
    this.runs.push({ argv, netns: options.netns, input: options.input });
    const inner = options.netns ? argv.slice(4) : argv;
    // A reply may name the full argv (with `ip netns exec NS`) or the command inside the namespace.
    const found = this.replies.find((r) => r.match(argv)) ?? this.replies.find((r) => r.match(inner));
    const reply = found ? (typeof found.reply === 'function' ? found.reply(inner, options) : found.reply) : { exitCode: undefined, stderr: `${cmd}: not scripted in FakeRunner` };
    const stdout = reply.stdout ?? '';
    const stderr = reply.stderr ?? '';
    const exitCode = 'exitCode' in reply ? reply.exitCode : 0;
    const result: RunResult = { argv, exitCode, stdout, stderr, output: stdout + stderr };
    if (exitCode !== 0 && !options.allowFailure) throw new CommandFailed(argv, exitCode, result.output);
    return result;
  }

  readonly spawned: { argv: readonly string[]; logFile: string }[] = [];
  private nextPid = 40000;

  /** Records the daemon it was asked to start; nothing runs. */
  async spawnDetached(cmd: string, args: readonly string[], options: SpawnOptions): Promise<number> {
    const [file, rest] = withNetns(this.ipCmd, cmd, args, options.netns);
    this.spawned.push({ argv: [file, ...rest], logFile: options.logFile });
    return this.nextPid++;
  }
}
