import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { createPaths } from './paths.js';

const config = (text: string) => parseConfig([{ path: '/x.conf', text }]).config;

describe('createPaths', () => {
  it("places files where Octavia's agent does by default", () => {
    const paths = createPaths(config(''));
    expect(paths.base).toBe('/var/lib/octavia');
    expect(paths.netnsFile).toBe('/run/netns/amphora-haproxy');
    expect(paths.unitName('amphora-netns')).toBe('amphora-netns');
    expect(paths.systemdUnit('amphora-netns')).toBe('/usr/lib/systemd/system/amphora-netns.service');
    expect(paths.sysvinitScript('octavia-keepalived')).toBe('/etc/init.d/octavia-keepalived');
    expect(paths.upstartJob('octavia-keepalived')).toBe('/etc/init/octavia-keepalived.conf');
    expect(paths.proc(1)).toBe('/proc/1');
  });

  it('moves every system directory under a configured root', () => {
    const root = '/tmp/r';
    const paths = createPaths(
      config(`[haproxy_amphora]\nbase_path = ${root}/lib\n[amphora_agent]\nsystemd_unit_dir = ${root}/units\nsysvinit_dir = ${root}/initd\nupstart_dir = ${root}/init\nproc_dir = ${root}/proc\nnetns_run_dir = ${root}/netns\n`),
    );
    for (const p of [paths.base, paths.systemdUnit('a'), paths.sysvinitScript('a'), paths.upstartJob('a'), paths.proc(7), paths.netnsFile, paths.stateFile]) {
      expect(p.startsWith(`${root}/`)).toBe(true);
    }
  });

  it('refuses names that would leave their directory', () => {
    const paths = createPaths(config(''));
    for (const bad of ['../etc/passwd', 'a/b', '', 'A', 'x y']) expect(() => paths.systemdUnit(bad)).toThrow(/invalid unit name/);
    expect(() => paths.proc(-1)).toThrow();
    expect(() => paths.proc(1.5)).toThrow();
    expect(() => paths.scratchConfig('/x/haproxy.cfg', '../y')).toThrow(/invalid scratch token/);
  });

  it('keeps staging and scratch copies beside their config', () => {
    const paths = createPaths(config(''));
    expect(paths.stagedConfig('/x/haproxy.cfg')).toBe('/x/haproxy.cfg.new');
    expect(paths.rejectedConfig('/x/haproxy.cfg')).toBe('/x/haproxy.cfg.new-failed');
    expect(paths.scratchConfig('/x/haproxy.cfg', 'ab-12')).toBe('/x/haproxy.cfg.check-ab-12');
  });
});
