/**
 * @module test/image/dib-env.test
 * The parts of the image build that need no DIB run (lib/dib-env.mjs, lib/inputs-hash.mjs): the
 * host's mirrors read from apt sources in both formats, the apt sources an image gets, the trixie
 * `base` override derived from the installed diskimage-builder (and refused loudly when the
 * hook it changes is not as expected), and the inputs fingerprint that decides reuse.
 * The DIB build itself is `node test/image/build.mjs` (minutes; not a vitest tier).
 * The `base` derivation from the installed DIB skips with its reason when this machine has no
 * diskimage-builder, and fails under CI.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tierCanRun } from '../support/requirements.js';
import { aptSourcesConf, deriveBaseElement, hostMirrors, installedDib } from './lib/dib-env.mjs';
import { inputsHash } from './lib/inputs-hash.mjs';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dib-env-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An /etc with os-release and the given apt sources files. */
function fakeEtc(name: string, codename: string, files: Record<string, string>): string {
  const etc = join(dir, name);
  mkdirSync(join(etc, 'apt', 'sources.list.d'), { recursive: true });
  writeFileSync(join(etc, 'os-release'), `PRETTY_NAME="Debian"\nVERSION_CODENAME=${codename}\nID=debian\n`);
  for (const [f, text] of Object.entries(files)) writeFileSync(join(etc, 'apt', f), text);
  return join(etc, 'apt');
}

describe("the host's Debian mirrors", () => {
  it('reads deb822 .sources, ignoring comments and other repositories', () => {
    const apt = fakeEtc('deb822', 'bookworm', {
      'sources.list.d/vendor.sources': 'Types: deb\nURIs: https://vendor.example/apt\nSuites: stable\nComponents: main\n',
      'sources.list.d/debian.sources':
        'Types: deb\n# http://snapshot.example/archive\nURIs: http://mirror.example/debian/\nSuites: bookworm bookworm-updates\nComponents: main\n\n' +
        'Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n',
    });
    expect(hostMirrors(apt)).toEqual({ archive: 'http://mirror.example/debian', security: 'http://mirror.example/debian-security' });
  });

  it('reads one-line sources.list entries, with options', () => {
    const apt = fakeEtc('oneline', 'bookworm', {
      'sources.list': '# main\ndeb [arch=amd64] http://ftp.example/debian bookworm main\ndeb-src http://ftp.example/debian bookworm main\ndeb http://sec.example/debian-security bookworm-security main\n',
    });
    expect(hostMirrors(apt)).toEqual({ archive: 'http://ftp.example/debian', security: 'http://sec.example/debian-security' });
  });

  it("says so when no source serves the host's release", () => {
    const apt = fakeEtc('none', 'bookworm', { 'sources.list': 'deb http://ftp.example/debian trixie main\n' });
    expect(() => hostMirrors(apt)).toThrow(/bookworm/);
  });

  it('gives the image the release, its -updates and its -security suites (no backports, no /updates)', () => {
    const conf = aptSourcesConf('trixie', { archive: 'http://m.example/debian', security: 'http://m.example/debian-security' });
    expect(conf.split('\n')).toEqual([
      'default:deb http://m.example/debian trixie main',
      'updates:deb http://m.example/debian trixie-updates main',
      'security:deb http://m.example/debian-security trixie-security main',
    ]);
  });
});

describe("the trixie override of DIB's base element", () => {
  /** A stand-in DIB elements folder whose base hook has `line` where the real one installs the two packages. */
  function fakeDib(name: string, line: string): { elements: string; version: string } {
    const hooks = join(dir, name, 'base', 'pre-install.d');
    mkdirSync(hooks, { recursive: true });
    writeFileSync(join(hooks, '03-baseline-tools'), `#!/bin/bash\nset -eu\ncase $DISTRO_NAME in\n    'ubuntu'|'debian')\n        apt-get -y update\n${line}\n        ;;\nesac\n`);
    chmodSync(join(hooks, '03-baseline-tools'), 0o755);
    writeFileSync(join(dir, name, 'base', 'README.rst'), 'base\n');
    return { elements: join(dir, name), version: 'test' };
  }

  /** Runs the derived hook with a stub install-packages that records what it was asked for. */
  function run(hook: string, release: string): string {
    const bin = join(dir, `bin-${release}`);
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'install-packages'), `#!/bin/sh\necho "install $*"\n`, { mode: 0o755 });
    writeFileSync(join(bin, 'apt-get'), '#!/bin/sh\n', { mode: 0o755 });
    return execFileSync('bash', [hook], { env: { PATH: `${bin}:/usr/bin:/bin`, DISTRO_NAME: 'debian', DIB_RELEASE: release }, encoding: 'utf8' });
  }

  it('copies the element and skips the two packages on trixie only', () => {
    const dib = fakeDib('dib-ok', '        install-packages software-properties-common apt-transport-https');
    const out = join(dir, 'out-ok');
    mkdirSync(out);
    const base = deriveBaseElement(dib, out);
    expect(readFileSync(join(base, 'README.rst'), 'utf8')).toBe('base\n');
    const hook = join(base, 'pre-install.d', '03-baseline-tools');
    expect(run(hook, 'trixie')).toBe('');
    expect(run(hook, 'bookworm')).toBe('install software-properties-common apt-transport-https\n');
  });

  it('refuses a DIB whose hook no longer has the expected line', () => {
    const dib = fakeDib('dib-changed', '        if [ "$DIB_RELEASE" != trixie ]; then install-packages software-properties-common; fi');
    const out = join(dir, 'out-changed');
    mkdirSync(out);
    expect(() => deriveBaseElement(dib, out)).toThrow(/no longer has the line/);
  });

  const canDib = tierCanRun('image build: installed diskimage-builder', { binaries: ['disk-image-create'] });
  it.skipIf(!canDib)('applies to the diskimage-builder installed here', () => {
    const dib = installedDib();
    const out = join(dir, 'out-installed');
    mkdirSync(out);
    const hook = join(deriveBaseElement(dib, out), 'pre-install.d', '03-baseline-tools');
    expect(run(hook, 'trixie')).toBe('');
  });
});

describe('the inputs fingerprint', () => {
  it('is stable, and changes with a file, a mode, the release, the DIB version or the elements', () => {
    const tree = join(dir, 'elements');
    cpSync(join(import.meta.dirname, '..', '..', 'diskimage-elements'), tree, { recursive: true });
    const script = join(dir, 'build.mjs');
    writeFileSync(script, 'one\n');
    const base = { release: 'trixie', dibVersion: '3.13.0', elements: ['amphora-agent'], elementDirs: [tree], scriptFiles: [script] };
    const first = inputsHash(base).hash;
    expect(inputsHash(base).hash).toBe(first);
    const seen = new Set([first]);
    const differs = (h: string) => {
      expect(seen.has(h)).toBe(false);
      seen.add(h);
    };
    differs(inputsHash({ ...base, release: 'bookworm' }).hash);
    differs(inputsHash({ ...base, dibVersion: '3.37.0' }).hash);
    differs(inputsHash({ ...base, elements: ['amphora-agent', 'extra'] }).hash);
    writeFileSync(script, 'two\n');
    differs(inputsHash(base).hash);
    const hook = join(tree, 'amphora-agent', 'install.d', '76-amphora-agent-sysctl');
    chmodSync(hook, 0o644);
    differs(inputsHash(base).hash);
    writeFileSync(hook, `${readFileSync(hook, 'utf8')}# changed\n`);
    differs(inputsHash(base).hash);
  });
});
