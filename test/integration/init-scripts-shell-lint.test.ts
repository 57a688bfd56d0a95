/**
 * @module test/integration/init-scripts-shell-lint
 * Every shell script of the agent's service definitions and image element passes `sh -n` or
 * `bash -n` (by its interpreter) and shellcheck: the SysV script, the element's phase and
 * environment scripts, the upstart job's shell blocks, and the namespace setup script every
 * netns unit runs (rendered with and without the agent's `interfaces up` command). Skips with its reason when this
 * machine lacks shellcheck, and fails under CI.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { show } from '../support/commands.js';
import { ELEMENT, SYSV, UPSTART, elementScripts, shInRepo } from '../support/init-script-files.js';
import { tierCanRun } from '../support/requirements.js';
import { parseUpstartJob } from '../support/upstart-job.js';
import { renderNetnsSetup } from '../../src/render/scripts.js';

const canLint = tierCanRun('init-scripts: shell lint', { binaries: ['shellcheck', 'sh', 'bash'] });

describe.skipIf(!canLint)('shell scripts: sh -n and shellcheck', () => {
  const lint = async (file: string, shell: 'sh' | 'bash'): Promise<void> => {
    const syntax = await shInRepo(shell, ['-n', file]);
    expect(syntax.code, `${shell} -n ${file}: ${show(syntax)}`).toBe(0);
    const check = await shInRepo('shellcheck', ['--shell', shell, '--external-sources', file]);
    expect(check.code, `shellcheck ${file}: ${show(check)}`).toBe(0);
  };

  it('the SysV script', async () => {
    expect((await readFile(SYSV, 'utf8')).split('\n')[0]).toBe('#!/bin/sh');
    await lint(SYSV, 'sh');
  });

  it('every element script, by its interpreter', async () => {
    const scripts = await elementScripts();
    expect(scripts.length).toBeGreaterThanOrEqual(3);
    for (const f of scripts) await lint(f, 'bash');
    for (const f of await readdir(join(ELEMENT, 'environment.d'))) await lint(join(ELEMENT, 'environment.d', f), 'bash');
  });

  it("the upstart job's shell blocks", async () => {
    const job = parseUpstartJob(await readFile(UPSTART, 'utf8'));
    const dir = await mkdtemp(join(tmpdir(), 'upstart-'));
    for (const s of job.scripts) {
      // upstart runs each block with /bin/sh -e
      const file = join(dir, `${s.process}.sh`);
      await writeFile(file, `#!/bin/sh -e\n${s.body}`);
      await lint(file, 'sh');
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('the namespace setup script, with and without the agent command', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'netns-setup-'));
    const boot = ['/usr/bin/node', '/usr/local/bin/amphora-agent', '--config-file', '/etc/octavia/amphora-agent.conf'];
    for (const [name, bootCommand] of [['plain.sh', undefined], ['boot.sh', boot]] as const) {
      const file = join(dir, name);
      await writeFile(file, renderNetnsSetup({ namespace: 'amphora-haproxy', lockFile: '/var/lib/octavia/amphora-netns.lock', ipCmd: '/sbin/ip', loadModules: true, bootCommand }));
      await lint(file, 'sh');
    }
    await rm(dir, { recursive: true, force: true });
  });

  it("catches Octavia's old keepalived bug: a multi-word DAEMON tested unquoted", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lint-'));
    const file = join(dir, 'keepalived');
    await writeFile(file, '#!/bin/sh\nDAEMON="/usr/sbin/keepalived -D"\ntest -f $DAEMON || exit 0\n');
    const r = await shInRepo('shellcheck', ['--shell', 'sh', file]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain('SC2086');
    await rm(dir, { recursive: true, force: true });
  });
});
