import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../test/fakes/fake-runner.js';
import { PackageVersions } from './package-versions.js';

const dpkg = (pkg: string) => ['dpkg-query', '-W', '-f=${db:Status-Status} ${Version}', pkg];

describe('PackageVersions', () => {
  it('reads Debian package versions once and caches them', async () => {
    const runner = new FakeRunner()
      .on(dpkg('haproxy'), { stdout: 'installed 2.6.12-1+deb12u4' })
      .on(dpkg('keepalived'), { stdout: 'installed 1:2.2.7-1+b2' })
      .on(dpkg('ipvsadm'), { stdout: 'installed 1:1.31-1+b1' });
    const versions = new PackageVersions(runner, () => '/usr/sbin/haproxy');
    const first = await versions.get();
    expect(first.versions).toEqual({ haproxy: '2.6.12-1+deb12u4', keepalived: '1:2.2.7-1+b2', ipvsadm: '1:1.31-1+b1' });
    expect(first.unavailable).toEqual({});
    await versions.get();
    expect(runner.calls).toHaveLength(3);
  });

  it('falls back to rpm, then to the binary, and says what is missing', async () => {
    const runner = new FakeRunner()
      .on(['dpkg-query'], { exitCode: 1, stderr: 'no packages found' })
      .on(['rpm', '-q', '--queryformat', '%{VERSION}', 'keepalived'], { stdout: '2.2.8' })
      .on(['rpm'], { exitCode: 1, stdout: 'package x is not installed' })
      .on(['/opt/haproxy', '-v'], { stdout: 'HAProxy version 2.8.3-1 2023/09/07 - https://haproxy.org/\n' })
      .on(['ipvsadm', '--version'], { exitCode: undefined, stderr: 'spawn ipvsadm ENOENT' });
    const result = await new PackageVersions(runner, () => '/opt/haproxy').get();
    expect(result.versions).toEqual({ haproxy: '2.8.3-1', keepalived: '2.2.8', ipvsadm: null });
    expect(result.unavailable.ipvsadm).toMatch(/no installed package 'ipvsadm'.*ipvsadm --version/);
  });

  it('keeps haproxy_version splittable into MAJOR.MINOR', async () => {
    const runner = new FakeRunner()
      .on(dpkg('haproxy'), { stdout: 'installed 1:2.9.1-1' })
      .on(['dpkg-query'], { stdout: 'installed 1.0' });
    expect((await new PackageVersions(runner, () => 'haproxy').get()).versions.haproxy).toBe('2.9.1-1');
  });

  it('ignores a package that is removed but whose config files remain', async () => {
    const runner = new FakeRunner()
      .on(['dpkg-query'], { stdout: 'config-files 2.6.12-1' })
      .on(['rpm'], { exitCode: 127 })
      .on(['keepalived', '--version'], { stderr: 'Keepalived v2.2.7 (01/16,2022)\n' });
    const result = await new PackageVersions(runner, () => 'haproxy').get();
    expect(result.versions.keepalived).toBe('2.2.7');
    expect(result.versions.haproxy).toBeNull();
  });
});
