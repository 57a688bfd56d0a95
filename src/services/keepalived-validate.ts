/**
 * @module services/keepalived-validate
 * Every uploaded keepalived config is checked with the real `keepalived --config-test` before
 * it replaces anything. Exit 0 is valid; exit 6 means the only finding is keepalived's
 * "script_security not enabled" warning, which every controller-rendered config with check
 * scripts triggers (Octavia runs them that way), so it is accepted and logged.
 */
import type { Logger } from '../log.js';
import { CommandFailed, ConfigRejected } from '../model/errors.js';
import type { ProcessRunner } from '../system/exec.js';

const VALID = 0;
const SCRIPT_SECURITY_ONLY = 6;

export async function validateKeepalivedConfig(
  runner: ProcessRunner,
  keepalived: string,
  file: string,
  log: Logger,
  netns?: string,
): Promise<void> {
  const r = await runner.run(keepalived, ['--config-test', '-f', file], { allowFailure: true, ...(netns ? { netns } : {}) });
  if (r.exitCode === VALID) return;
  if (r.exitCode === SCRIPT_SECURITY_ONLY) {
    log.debug({ file, output: r.output }, 'keepalived config accepted with script_security warning');
    return;
  }
  if (r.exitCode === undefined) throw new CommandFailed(r.argv, undefined, r.output, 'Cannot validate the keepalived configuration');
  throw new ConfigRejected('Invalid request', r.output.trim());
}
