/**
 * @module services/keepalived-validate
 * Every uploaded keepalived config is checked with the real `keepalived --config-test` before
 * it replaces anything. keepalived 2.2.7 folds all its findings into one exit status in which
 * one kind masks the others: the "script_security not enabled" warning (exit 6), which every
 * controller-rendered config with a check script triggers, hides parse errors, and findings
 * that do not stop keepalived from running a controller-rendered config give exit 5. So a
 * non-zero status only says that keepalived found something; the config is refused unless
 * every line it printed is one of the known harmless findings below.
 */
import { rename } from 'node:fs/promises';
import type { Logger } from '../log.js';
import { CommandFailed, ConfigRejected } from '../model/errors.js';
import type { ProcessRunner } from '../system/exec.js';
import { readIfExists, removeFile, writeFileAtomic } from '../system/files.js';

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

export function harmfulFindings(output: string): string[] {
  return output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !HARMLESS.some((re) => re.test(line)));
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
  if (r.exitCode === undefined) throw new CommandFailed(r.argv, undefined, r.output, 'Cannot validate the keepalived configuration');
  // A finding keepalived did not print cannot be judged: refuse it.
  if (FINDINGS.has(r.exitCode) && r.output.trim() !== '' && harmfulFindings(r.output).length === 0) {
    log.debug({ file, exitCode: r.exitCode, output: r.output }, 'keepalived config accepted with harmless findings');
    return;
  }
  throw new ConfigRejected('Invalid request', r.output.trim());
}

/**
 * Stages `text` as `<target>.new`, runs `validate` on it and, when it passes, renames it over
 * `target`. A refused config is kept as `<target>.new-failed` for the operator. Returns what
 * `target` held before, so that a later failure can put it back.
 */
export async function replaceValidated(target: string, text: string, validate: (file: string) => Promise<void>): Promise<string | undefined> {
  const candidate = `${target}.new`;
  await writeFileAtomic(candidate, text, 0o644);
  try {
    await validate(candidate);
  } catch (err) {
    if (err instanceof ConfigRejected) await rename(candidate, `${target}.new-failed`);
    else await removeFile(candidate);
    throw err;
  }
  const previous = await readIfExists(target);
  await rename(candidate, target);
  return previous;
}
