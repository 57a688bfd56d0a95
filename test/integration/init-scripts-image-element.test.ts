/**
 * @module test/integration/init-scripts-image-element
 * The image element (diskimage-elements/amphora-agent/): the layout diskimage-builder expects
 * (files, sorted deps, a pkg-map entry per package, executable bash phase scripts) and
 * dib-lint over diskimage-elements/. The dib-lint tier skips with its reason when this machine
 * lacks dib-lint, and fails under CI.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HAPROXY_NOFILE } from '../../src/services/daemon-specs.js';
import { show } from '../support/commands.js';
import { ELEMENT, elementScripts, shInRepo } from '../support/init-script-files.js';
import { tierCanRun } from '../support/requirements.js';

describe('image element layout', () => {
  it('has the files of a diskimage-builder element, sorted deps, valid JSON pkg-map', async () => {
    for (const f of ['README.rst', 'element-deps', 'package-installs.yaml', 'pkg-map', 'svc-map']) await stat(join(ELEMENT, f));
    const deps = (await readFile(join(ELEMENT, 'element-deps'), 'utf8')).trim().split('\n');
    expect(deps).toEqual([...deps].sort());
    expect(deps).toEqual(expect.arrayContaining(['dib-init-system', 'package-installs', 'pkg-map', 'svc-map']));
    const map = JSON.parse(await readFile(join(ELEMENT, 'pkg-map'), 'utf8')) as { default: Record<string, string> };
    const installs = await readFile(join(ELEMENT, 'package-installs.yaml'), 'utf8');
    for (const pkg of installs.match(/^[a-z0-9][a-z0-9.+-]*(?=:)/gm) ?? []) expect(map.default, `pkg-map default for ${pkg}`).toHaveProperty(pkg);
    for (const pkg of ['nodejs', 'keepalived', 'haproxy', 'ipvsadm', 'iproute2', 'netcat-openbsd', 'openssl', 'nftables', 'isc-dhcp-client', 'ifupdown']) expect(installs).toMatch(new RegExp(`^${pkg}:`, 'm'));
    // the agent's dependencies are installed on the build host: npm never enters the image
    expect(installs).not.toMatch(/^npm:/m);
    expect(deps).toEqual(expect.arrayContaining(['cloud-init', 'cloud-init-datasources']));
  });

  it('phase scripts are executable bash with set -eu, pipefail and DIB_DEBUG_TRACE; environment files are not executable', async () => {
    for (const f of await elementScripts()) {
      const text = await readFile(f, 'utf8');
      expect((await stat(f)).mode & 0o111, `${f} executable`).toBe(0o111);
      expect(text.split('\n')[0], f).toBe('#!/bin/bash');
      expect(text, f).toMatch(/^set -eu$/m);
      expect(text, f).toMatch(/^set -o pipefail$/m);
      expect(text, f).toContain('${DIB_DEBUG_TRACE:-0}');
    }
    for (const f of await readdir(join(ELEMENT, 'environment.d'))) expect((await stat(join(ELEMENT, 'environment.d', f))).mode & 0o111, f).toBe(0);
  });

  it('post-install installs a file for each init system DIB names, with the SysV script executable', async () => {
    const text = await readFile(join(ELEMENT, 'post-install.d/11-enable-amphora-agent'), 'utf8');
    expect(text).toMatch(/^\s*systemd\)/m);
    expect(text).toMatch(/^\s*sysv\|sysvinit\)/m);
    expect(text).toMatch(/^\s*upstart\)/m);
    expect(text).toMatch(/-m 0755 "\$SCRIPTS\/sysvinit\/amphora-agent"/);
  });
});

describe('image sysctl', () => {
  it("lets haproxy have the open-file limit its units ask for: fs.nr_open and fs.file-max at least HAPROXY_NOFILE", async () => {
    const text = await readFile(join(ELEMENT, 'install.d/76-amphora-agent-sysctl'), 'utf8');
    const conf = /<<'SYSCTL'\n([\s\S]*?)\nSYSCTL\n/.exec(text)?.[1] ?? '';
    expect(text).toMatch(/^cat > \/etc\/sysctl\.d\/60-amphora-agent-haproxy\.conf <<'SYSCTL'$/m);
    for (const key of ['fs.nr_open', 'fs.file-max']) {
      const value = new RegExp(`^${key.replace('.', '\\.')} = (\\d+)$`, 'm').exec(conf)?.[1];
      expect(Number(value), key).toBeGreaterThanOrEqual(HAPROXY_NOFILE);
    }
  });
});

const canDibLint = tierCanRun('init-scripts: dib-lint', { binaries: ['dib-lint', 'python3', 'git', 'file'], python: 'yaml' });

describe.skipIf(!canDibLint)('dib-lint', () => {
  it('passes on diskimage-elements/', async () => {
    // dib-lint calls `python`; Debian 12 only has python3 unless python-is-python3 is installed.
    const shim = await mkdtemp(join(tmpdir(), 'dib-lint-'));
    await symlink('/usr/bin/python3', join(shim, 'python'));
    await mkdir(join(shim, 'lib'));
    const env = { ...process.env, PATH: `${shim}:${process.env['PATH'] ?? ''}`, ELEMENTS_DIR: 'diskimage-elements', LIB_DIR: join(shim, 'lib') };
    const r = await shInRepo('dib-lint', [], { env, timeoutMs: 120_000 });
    await rm(shim, { recursive: true, force: true });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^PASS$/m);
  });
});
