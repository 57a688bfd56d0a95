import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import type { Uuid } from '../model/uuid.js';
import { KeepalivedDaemons } from '../services/keepalived-daemons.js';
import { createPaths } from '../system/paths.js';
import { renderDaemonUnit, renderNetnsUnit, type UnitInitKind } from './init-units.js';

const config = parseConfig([{ path: '/x.conf', text: '' }]).config;
const daemons = new KeepalivedDaemons(config, createPaths(config));
const LISTENER = 'ffffffff-0000-0000-0000-0000000000a1' as Uuid;
const KINDS: UnitInitKind[] = ['systemd', 'sysvinit', 'upstart'];
const EXT: Record<UnitInitKind, string> = { systemd: 'service', sysvinit: 'sh', upstart: 'conf' };

describe('init unit templates (golden files)', () => {
  for (const kind of KINDS) {
    it(`${kind}: LVS listener keepalived`, async () => {
      await expect(renderDaemonUnit(kind, daemons.lvs(LISTENER))).toMatchFileSnapshot(`__golden__/${kind}-keepalived-lvs.${EXT[kind]}`);
    });
    it(`${kind}: VRRP keepalived`, async () => {
      await expect(renderDaemonUnit(kind, daemons.vrrp())).toMatchFileSnapshot(`__golden__/${kind}-keepalived-vrrp.${EXT[kind]}`);
    });
    it(`${kind}: network namespace`, async () => {
      await expect(renderNetnsUnit(kind, daemons.netns())).toMatchFileSnapshot(`__golden__/${kind}-netns.${EXT[kind]}`);
    });
  }
});

describe('unit contents', () => {
  it('runs keepalived in the foreground inside the namespace with its own pid files', () => {
    const unit = renderDaemonUnit('systemd', daemons.lvs(LISTENER));
    expect(unit).toContain(
      `ExecStart=/sbin/ip netns exec amphora-haproxy /usr/sbin/keepalived --dont-fork --log-console --log-detail --log-facility=1 -f /var/lib/octavia/lvs/octavia-keepalivedlvs-${LISTENER}.conf -p /var/lib/octavia/lvs/octavia-keepalivedlvs-${LISTENER}.pid -r /var/lib/octavia/lvs/octavia-keepalivedlvs-${LISTENER}.vrrp.pid -c /var/lib/octavia/lvs/octavia-keepalivedlvs-${LISTENER}.check.pid`,
    );
    expect(unit).toContain('Requires=amphora-netns.service');
    expect(unit).toContain('ExecReload=/bin/kill -HUP $MAINPID');
    expect(renderDaemonUnit('systemd', daemons.vrrp())).toContain('--vrrp -f /var/lib/octavia/vrrp/octavia-keepalived.conf');
  });

  it('refuses any word that could add a directive or a command', () => {
    const bad = { ...daemons.lvs(LISTENER), pidFile: '/var/run/x.pid\nExecStartPre=/bin/rm -rf /' };
    expect(() => renderDaemonUnit('systemd', bad)).toThrow(/not a safe configuration word/);
    expect(() => renderDaemonUnit('sysvinit', { ...daemons.lvs(LISTENER), argv: ['/bin/true', '$(reboot)'] })).toThrow(/argv\[1\]/);
    expect(() => renderDaemonUnit('upstart', { ...daemons.lvs(LISTENER), description: 'x"\nexec /bin/sh' })).toThrow(/unsafe unit description/);
    expect(() => renderNetnsUnit('systemd', { ...daemons.netns(), namespace: 'a b' })).toThrow(/namespace/);
  });
});
