/**
 * procFile and isDaemonProcess over a fake /proc in a temporary root: what a /proc read gives
 * (short files, a command line longer than the shared read buffer, a missing process), and that
 * a daemon is known by its comm, -f and -p, or not at all.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Paths } from './paths.js';
import { isDaemonProcess, procFile } from './processes.js';

function fakeProc() {
  const root = mkdtempSync(join(tmpdir(), 'processes-'));
  const paths = { proc: (pid: number) => join(root, String(pid)) } as unknown as Paths;
  const add = (pid: number, comm: string, argv: string[]) => {
    mkdirSync(join(root, String(pid)));
    writeFileSync(join(root, String(pid), 'comm'), `${comm}\n`);
    writeFileSync(join(root, String(pid), 'cmdline'), argv.map((a) => `${a}\0`).join(''));
    writeFileSync(join(root, String(pid), 'stat'), `${pid} (${comm}) S 1 ${pid}`);
  };
  return { root, paths, add };
}

const identity = { comm: 'keepalived', config: '/var/lib/octavia/lvs/a.conf', pidFile: '/var/lib/octavia/lvs/a.pid' };

describe('procFile', () => {
  it('reads short files, one after the other, each whole', () => {
    const { root, add } = fakeProc();
    add(10, 'keepalived', ['/usr/sbin/keepalived', '-f', identity.config]);
    add(11, 'haproxy', ['/usr/sbin/haproxy']);
    expect(procFile(join(root, '10', 'comm'))).toBe('keepalived\n');
    expect(procFile(join(root, '11', 'comm'))).toBe('haproxy\n');
    expect(procFile(join(root, '10', 'cmdline'))).toBe(`/usr/sbin/keepalived\0-f\0${identity.config}\0`);
  });

  it('reads a file longer than its buffer whole', () => {
    const { root, add } = fakeProc();
    const long = 'x'.repeat(40_000);
    add(12, 'keepalived', [long, '-f', identity.config]);
    expect(procFile(join(root, '12', 'cmdline'))).toBe(`${long}\0-f\0${identity.config}\0`);
    expect(procFile(join(root, '12', 'comm'))).toBe('keepalived\n');
  });

  it('gives undefined for a process that is gone', () => {
    expect(procFile(join(fakeProc().root, '13', 'comm'))).toBeUndefined();
  });
});

describe('isDaemonProcess', () => {
  it('knows the daemon by its comm, -f and -p', () => {
    const { paths, add } = fakeProc();
    add(20, 'keepalived', ['/usr/sbin/keepalived', '--dont-fork', '-f', identity.config, '-p', identity.pidFile]);
    add(21, 'keepalived', ['/usr/sbin/keepalived', '-f', '/var/lib/octavia/lvs/b.conf', '-p', identity.pidFile]);
    add(22, 'sleep', ['sleep', '-f', identity.config, '-p', identity.pidFile]);
    expect(isDaemonProcess(paths, 20, identity)).toBe(true);
    expect(isDaemonProcess(paths, 21, identity)).toBe(false);
    expect(isDaemonProcess(paths, 22, identity)).toBe(false);
    expect(isDaemonProcess(paths, 23, identity)).toBe(false);
  });
});
