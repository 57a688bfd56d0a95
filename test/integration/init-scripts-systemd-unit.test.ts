/**
 * @module test/integration/init-scripts-systemd-unit
 * The agent's systemd unit (init-scripts/systemd/amphora-agent.service), checked by
 * `systemd-analyze verify` against a tree shaped like an amphora, and its key settings read
 * from the file. Skips with its reason when this machine lacks systemd-analyze or systemd's
 * units, and fails under CI.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { show, type Result } from '../support/commands.js';
import { UNIT, shInRepo } from '../support/init-script-files.js';
import { tierCanRun } from '../support/requirements.js';

const canVerifyUnit = tierCanRun('init-scripts: systemd unit', { binaries: ['systemd-analyze'], files: ['/usr/lib/systemd/system/multi-user.target'] });

describe.skipIf(!canVerifyUnit)('systemd unit', () => {
  let root: string;
  const verify = (unit: string): Promise<Result> => shInRepo('systemd-analyze', ['verify', `--root=${root}`, unit]);

  beforeAll(async () => {
    // systemd-analyze verify checks that ExecStart's binary exists; --root lets it look in a
    // tree shaped like an amphora (systemd's own units plus /usr/local/bin/amphora-agent) instead
    // of this host. It needs no running systemd.
    root = await mkdtemp(join(tmpdir(), 'unit-root-'));
    await cp('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
    await mkdir(join(root, 'usr/local/bin'), { recursive: true });
    await writeFile(join(root, 'usr/local/bin/amphora-agent'), '#!/bin/sh\n', { mode: 0o755 });
    await cp(UNIT, join(root, 'usr/lib/systemd/system/amphora-agent.service'));
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('passes `systemd-analyze verify` with no warning at all', async () => {
    const r = await verify('amphora-agent.service');
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout + r.stderr).toBe('');
  });

  it('is checked for real: a broken copy is reported', async () => {
    const text = await readFile(UNIT, 'utf8');
    await writeFile(join(root, 'usr/lib/systemd/system/broken.service'), text.replace(/^KillMode=process$/m, 'KillMode=bogus\nNoSuchKey=1'));
    const r = await verify('broken.service');
    expect(r.stderr).toContain('kill mode');
    expect(r.stderr).toContain('NoSuchKey');
    await writeFile(join(root, 'usr/lib/systemd/system/missing.service'), text.replace('/usr/local/bin/amphora-agent', '/usr/local/bin/not-there'));
    expect((await verify('missing.service')).code).not.toBe(0);
  });

  it('runs the npm-installed agent with the amphora config after cloud-init, restarts on failure and spares child daemons', async () => {
    const text = await readFile(UNIT, 'utf8');
    const value = (key: string): string[] => [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1] ?? '');
    expect(value('ExecStart')).toEqual(['/usr/local/bin/amphora-agent --config-file /etc/octavia/amphora-agent.conf']);
    expect(value('Type')).not.toContain('notify');
    // after cloud-init's local stage (the config drive's files), not held back by network-online
    // (systemd-networkd-wait-online's 120 s where no link is configured, e.g. UML with no NIC)
    expect(value('After').join(' ').split(' ')).toEqual(expect.arrayContaining(['network.target', 'cloud-init-local.service']));
    expect([...value('After'), ...value('Wants'), ...value('Requires')].join(' ')).not.toContain('network-online.target');
    expect(value('Restart')).toEqual(['on-failure']);
    // a start that fails while the management address is not up yet is retried without a limit
    expect(value('StartLimitIntervalSec')).toEqual(['0']);
    expect(value('KillMode')).toEqual(['process']);
    // a bound on the agent's descriptors, far above what its bounded connections need (connection-guard.ts)
    expect(value('LimitNOFILE')).toEqual(['65536']);
    expect(value('WantedBy')).toEqual(['multi-user.target']);
  });
});
