/**
 * @module services/apply/validators
 * The real binaries that judge a config before it replaces anything (services/apply/staged-apply):
 * `haproxy -c` and `keepalived --config-test`.
 *
 * haproxy: exit 0 is valid (warnings included, as the reference accepts them); anything else
 * is a 400 with haproxy's own words. haproxy checks no address here: a VIP missing from the
 * namespace is found when haproxy binds it, at start or reload.
 *
 * keepalived 2.2.7 folds all its findings into one exit status in which
 * one kind masks the others: the "script_security not enabled" warning (exit 6), which every
 * controller-rendered config with a check script triggers, hides parse errors, and findings
 * that do not stop keepalived from running a controller-rendered config give exit 5. So a
 * non-zero status only says that keepalived found something; the config is refused unless
 * every line it printed is one of the known harmless findings below. keepalived 2.3 (Debian 13)
 * puts the file and line before more of its findings ("(FILE: Line 17) Virtual server ... has no
 * real servers - ignoring"): a finding is judged without that location.
 */
import type { Logger } from '../../log.js';
import { CommandFailed, ConfigRejected } from '../../model/errors.js';
import type { ProcessRunner } from '../../system/exec.js';

/** Checks a config file; throws ConfigRejected (400) when the binary refuses it. */
export type Validator = (file: string) => Promise<void>;

const VALID = 0;
/** KEEPALIVED_EXIT_CONFIG_TEST and KEEPALIVED_EXIT_CONFIG_TEST_SECURITY. */
const FINDINGS = new Set([5, 6]);

/** Findings keepalived reports for configs the controller renders, and then runs them anyway. */
const HARMLESS: readonly RegExp[] = [
  // Octavia runs its check scripts as root, without script_security.
  /^SECURITY VIOLATION - (?:check )?scripts are being executed but script_security not enabled\.?$/,
  // Octavia renders `state MASTER` together with `nopreempt`.
  /^\([^)]*\) Warning - nopreempt will not work with initial state MASTER - clearing$/,
  // A pool without (enabled) members, or a disabled pool: keepalived runs without that virtual server.
  /^Virtual server .* has no real servers - ignoring$/,
  // Every member drained (weight 0): keepalived lowers the virtual server's quorum to 0 and runs it.
  /^Warning - quorum 1 for .* exceeds total weight of real servers 0, reducing quorum to 0$/,
  /^Virtual server .*: hysteresis 0 >= quorum 0; setting hysteresis to \d+$/,
];

/** How many findings of a stopped config test an answer lists. */
const MAX_FINDINGS = 50;

/** "(/path/file.conf: Line 17) " before a finding (keepalived 2.3 writes it for more of them). */
const LOCATION = /^\([^()]*: Line \d+\) /;

export function harmfulFindings(output: string): string[] {
  return output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !HARMLESS.some((re) => re.test(line.replace(LOCATION, ''))));
}

export async function validateKeepalivedConfig(
  runner: ProcessRunner,
  keepalived: string,
  file: string,
  log: Logger,
  netns?: string,
): Promise<void> {
  const r = await runner.run(keepalived, ['--config-test', '-f', file], { allowFailure: true, ...(netns ? { netns } : {}) });
  if (r.exitCode === VALID) return;
  if (r.exitCode === undefined) {
    // Stopped (its time limit) on a huge junk upload: what it printed so far already condemns the
    // text, so that is a 400 with the first findings, not a 500 (found by the reliability fuzz).
    const findings = harmfulFindings(r.output);
    if (findings.length > 0) throw new ConfigRejected('Invalid request', [...findings.slice(0, MAX_FINDINGS), `(keepalived --config-test was stopped after ${findings.length} findings)`].join('\n'));
    throw new CommandFailed(r.argv, undefined, r.output, 'Cannot validate the keepalived configuration');
  }
  // A finding keepalived did not print cannot be judged: refuse it.
  if (FINDINGS.has(r.exitCode) && r.output.trim() !== '' && harmfulFindings(r.output).length === 0) {
    log.debug({ file, exitCode: r.exitCode, output: r.output }, 'keepalived config accepted with harmless findings');
    return;
  }
  throw new ConfigRejected('Invalid request', r.output.trim());
}

/** What an API 1.0 load balancer's haproxy also runs with: its local peer name (-L) and the user-group file. */
export interface HaproxyRunOptions {
  readonly peer: string;
  readonly userGroupFile: string;
}

/** `haproxy -c [-L <peer>] -f <file> [-f <user-group file>]`: the reference's check for uploads. */
export async function validateHaproxyConfig(runner: ProcessRunner, haproxy: string, file: string, log: Logger, run: HaproxyRunOptions | null = null): Promise<void> {
  const argv = run === null ? ['-c', '-f', file] : ['-c', '-L', run.peer, '-f', file, '-f', run.userGroupFile];
  const r = await runner.run(haproxy, argv, { allowFailure: true });
  if (r.exitCode === 0) {
    if (/\[WARNING\]/.test(r.output)) log.debug({ file, output: r.output }, 'haproxy config accepted with warnings');
    return;
  }
  if (r.exitCode === undefined) throw new CommandFailed(r.argv, undefined, r.output, 'Cannot validate the haproxy configuration');
  throw new ConfigRejected('Invalid request', r.output.trim());
}
