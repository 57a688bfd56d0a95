/**
 * @module test/integration/daemon-units-systemd
 * The systemd units the agent renders for its daemons (render/init-units.ts), checked by
 * `systemd-analyze verify` in a tree shaped like an amphora (systemd's own units, the binaries
 * the units run), with no warning at all: the haproxy unit with its open-file limit
 * (LimitNOFILE), the keepalived units and the namespace unit they require. Skips with its reason
 * when this machine lacks systemd-analyze or systemd's units, and fails under CI.
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Uuid } from '../../src/model/uuid.js';
import { renderDaemonUnit, renderNetnsUnit } from '../../src/render/init-units.js';
import { DaemonSpecs } from '../../src/services/daemon-specs.js';
import { createPaths } from '../../src/system/paths.js';
import { show } from '../support/commands.js';
import { shInRepo } from '../support/init-script-files.js';
import { tierCanRun } from '../support/requirements.js';

const canVerify = tierCanRun('integration: daemon units, systemd-analyze verify', { binaries: ['systemd-analyze'], files: ['/usr/lib/systemd/system/multi-user.target'] });

const config = parseConfig([{ path: '/x.conf', text: '' }]).config;
const specs = new DaemonSpecs(() => config, createPaths(config));
const LB = 'ffffffff-0000-4000-8000-0000000000b1' as Uuid;
const LISTENER = 'ffffffff-0000-4000-8000-0000000000a1' as Uuid;

describe.skipIf(!canVerify)('daemon units: systemd-analyze verify', () => {
  let root: string;
  const units = 'usr/lib/systemd/system';
  const verify = (unit: string) => shInRepo('systemd-analyze', ['verify', `--root=${root}`, unit]);

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'daemon-units-'));
    await cp('/usr/lib/systemd/system', join(root, units), { recursive: true, verbatimSymlinks: true });
    // verify checks that each Exec binary exists: stand-ins where the units expect them
    for (const bin of ['sbin/ip', 'usr/sbin/haproxy', 'usr/sbin/keepalived', 'bin/kill', 'bin/sh']) {
      await mkdir(join(root, bin, '..'), { recursive: true });
      await writeFile(join(root, bin), '#!/bin/sh\n', { mode: 0o755 });
    }
    const files: Record<string, string> = {
      [`${specs.netns().unit}.service`]: renderNetnsUnit('systemd', specs.netns()),
      [`${specs.haproxy(LB).unit}.service`]: renderDaemonUnit('systemd', specs.haproxy(LB)),
      [`${specs.lvs(LISTENER).unit}.service`]: renderDaemonUnit('systemd', specs.lvs(LISTENER)),
      [`${specs.vrrp().unit}.service`]: renderDaemonUnit('systemd', specs.vrrp()),
    };
    for (const [name, text] of Object.entries(files)) await writeFile(join(root, units, name), text);
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('the haproxy unit, with LimitNOFILE=2600000, passes with no warning', async () => {
    const r = await verify(`${specs.haproxy(LB).unit}.service`);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout + r.stderr).toBe('');
  });

  it('the keepalived units and the namespace unit pass with no warning', async () => {
    for (const unit of [specs.lvs(LISTENER).unit, specs.vrrp().unit, specs.netns().unit]) {
      const r = await verify(`${unit}.service`);
      expect(r.code, `${unit}: ${show(r)}`).toBe(0);
      expect(r.stdout + r.stderr, unit).toBe('');
    }
  });

  it('is checked for real: a bad LimitNOFILE is reported', async () => {
    const text = renderDaemonUnit('systemd', specs.haproxy(LB)).replace('LimitNOFILE=2600000', 'LimitNOFILE=lots');
    await writeFile(join(root, units, 'broken-limit.service'), text);
    const r = await verify('broken-limit.service');
    const line = text.split('\n').indexOf('LimitNOFILE=lots') + 1;
    expect(r.stdout + r.stderr).toContain(`broken-limit.service:${line}: Failed to parse resource value, ignoring: lots`);
  });
});
