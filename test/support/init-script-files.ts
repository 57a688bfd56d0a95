/**
 * @module test/support/init-script-files
 * What the init-scripts tests (test/integration/init-scripts-*.test.ts) look at: the agent's
 * own service definitions under init-scripts/ and the image element under
 * diskimage-elements/amphora-agent/, and `shInRepo` to run a checker on them from the
 * repository root (dib-lint finds the elements from there). It reads no file itself beyond
 * listing the element's phase scripts.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from './agent-fixture.js';
import { sh, type Result, type ShOptions } from './commands.js';

export const UNIT = join(REPO_ROOT, 'init-scripts/systemd/amphora-agent.service');
export const SYSV = join(REPO_ROOT, 'init-scripts/sysvinit/amphora-agent');
export const UPSTART = join(REPO_ROOT, 'init-scripts/upstart/amphora-agent.conf');
export const ELEMENT = join(REPO_ROOT, 'diskimage-elements/amphora-agent');
const PHASES = ['extra-data.d', 'install.d', 'post-install.d'];

/** `sh` with the repository root as its working directory (unless `opts.cwd` says otherwise). */
export function shInRepo(cmd: string, args: readonly string[], opts: ShOptions = {}): Promise<Result> {
  return sh(cmd, args, { cwd: REPO_ROOT, ...opts });
}

/** Every script of the element's phases (extra-data.d, install.d, post-install.d). */
export async function elementScripts(): Promise<string[]> {
  const out: string[] = [];
  for (const phase of PHASES) for (const f of await readdir(join(ELEMENT, phase))) out.push(join(ELEMENT, phase, f));
  return out;
}
