/**
 * @module test/image/dib-sudo-shim.test
 * The `sudo` that the image build puts first on PATH (test/image/dib-path/sudo), on a real loop
 * device with a real MBR partition table: `kpartx -uvs`/`-av` make the partitions appear as
 * /dev/loopNpM (partx, no device-mapper) with /dev/mapper/loopNpM links, `kpartx -d` removes
 * both, `dmsetup` is a no-op, anything else reaches the real sudo. Skips with its reason when
 * not root or losetup, partx, sfdisk or sudo are missing, and fails under CI.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/agent-fixture.js';
import { tierCanRun } from '../support/requirements.js';

const SHIM = join(REPO_ROOT, 'test/image/dib-path/sudo');
const canRun = tierCanRun('image build: sudo shim on a loop device', { root: true, binaries: ['losetup', 'partx', 'sfdisk', 'sudo'], files: ['/dev/loop-control'] });

describe.skipIf(!canRun)('dib-path/sudo', () => {
  let dir: string;
  let loop = '';
  const shim = (...args: string[]) => spawnSync(SHIM, args, { encoding: 'utf8' });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sudo-shim-'));
    const img = join(dir, 'disk.img');
    writeFileSync(img, '');
    execFileSync('truncate', ['-s', '64M', img]);
    // two primary partitions, as DIB's vm element makes one (an MBR label, 1 MiB aligned)
    execFileSync('sfdisk', ['--quiet', img], { input: 'label: dos\n,32M,L\n,,L\n' });
    loop = execFileSync('losetup', ['--find', '--show', img], { encoding: 'utf8' }).trim();
  });
  afterAll(() => {
    if (loop) {
      spawnSync(SHIM, ['kpartx', '-d', loop]);
      spawnSync('losetup', ['-d', loop]);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('kpartx -uvs maps each partition as /dev/mapper/loopNpM, a link to the partition device', () => {
    const r = shim('kpartx', '-uvs', loop);
    expect(r.status, r.stderr).toBe(0);
    const name = basename(loop);
    for (const p of [1, 2]) {
      const mapper = `/dev/mapper/${name}p${p}`;
      expect(lstatSync(mapper).isSymbolicLink()).toBe(true);
      expect(readlinkSync(mapper)).toBe(`/dev/${name}p${p}`);
      expect(statSync(mapper).isBlockDevice()).toBe(true);
    }
    expect(r.stdout).toContain(`add map ${name}p1`);
    // 32 MiB in 512-byte sectors: the kernel sees the partition table that sfdisk wrote
    expect(Number(execFileSync('blockdev', ['--getsz', `/dev/mapper/${name}p1`], { encoding: 'utf8' }))).toBe(65536);
  });

  it('a second mapping (kpartx -av) is an update, not an error', () => {
    const r = shim('kpartx', '-av', loop);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(`/dev/mapper/${basename(loop)}p2`)).toBe(true);
  });

  it('dmsetup is a no-op; other commands reach the real sudo', () => {
    expect(shim('dmsetup', '--noudevsync', 'mknodes').status).toBe(0);
    const r = shim('sh', '-c', 'echo "$0:$(id -u)"', 'real');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('real:0');
  });

  it('refuses what it does not understand', () => {
    expect(shim('kpartx', '-l', loop).status).toBe(1);
    expect(shim('kpartx', '-a', '/dev/sda').status).toBe(1);
  });

  it('kpartx -d removes the links and the partitions', () => {
    const r = shim('kpartx', '-d', loop);
    expect(r.status, r.stderr).toBe(0);
    const name = basename(loop);
    expect(existsSync(`/dev/mapper/${name}p1`)).toBe(false);
    expect(existsSync(`/sys/block/${name}/${name}p1`)).toBe(false);
  });
});
