import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import type { Uuid } from '../model/uuid.js';
import { DaemonSpecs } from '../services/daemon-specs.js';
import { createPaths } from '../system/paths.js';
import type { UnitInitKind } from '../system/init/types.js';
import { renderDaemonUnit, renderNetnsUnit } from './init-units.js';

const config = parseConfig([{ path: '/x.conf', text: '' }]).config;
const daemons = new DaemonSpecs(() => config, createPaths(config));
const LISTENER = 'ffffffff-0000-0000-0000-0000000000a1' as Uuid;
const LB = 'ffffffff-0000-0000-0000-0000000000b1' as Uuid;
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
    it(`${kind}: haproxy of a load balancer`, async () => {
      await expect(renderDaemonUnit(kind, daemons.haproxy(LB))).toMatchFileSnapshot(`__golden__/${kind}-haproxy.${EXT[kind]}`);
    });
    it(`${kind}: haproxy of a load balancer the controller uploaded (API 1.0: user-group file, peer name)`, async () => {
      const unit = renderDaemonUnit(kind, daemons.haproxy(LB, { peer: 'l9IvhlJXHEKslNZJNrp406vOEoI', userGroupFile: config.amphora_agent.haproxy_user_group_file }));
      expect(unit).toContain(`-f /var/lib/octavia/${LB}/haproxy.cfg -f /var/lib/octavia/haproxy-default-user-group.conf -L l9IvhlJXHEKslNZJNrp406vOEoI -p /var/lib/octavia/${LB}/${LB}.pid`);
      await expect(unit).toMatchFileSnapshot(`__golden__/${kind}-haproxy-uploaded.${EXT[kind]}`);
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

  it('runs haproxy master-worker in the foreground inside the namespace, reloaded with SIGUSR2', () => {
    const unit = renderDaemonUnit('systemd', daemons.haproxy(LB));
    expect(unit).toContain(`ExecStart=/sbin/ip netns exec amphora-haproxy /usr/sbin/haproxy -W -db -f /var/lib/octavia/${LB}/haproxy.cfg -p /var/lib/octavia/${LB}/${LB}.pid`);
    expect(unit).toContain('ExecReload=/bin/kill -USR2 $MAINPID');
    expect(unit).toContain(`StandardOutput=append:/var/lib/octavia/${LB}/haproxy.log`);
    expect(renderDaemonUnit('sysvinit', daemons.haproxy(LB))).toContain('kill -USR2 "$pid"');
    expect(renderDaemonUnit('upstart', daemons.haproxy(LB))).toMatch(/^reload signal SIGUSR2$/m);
    // keepalived keeps upstart's default (SIGHUP)
    expect(renderDaemonUnit('upstart', daemons.lvs(LISTENER))).not.toMatch(/reload signal/);
    expect(renderDaemonUnit('sysvinit', daemons.lvs(LISTENER))).toContain('kill -HUP "$pid"');
  });

  it("raises haproxy's open-file limit to the reference's 2600000 in every init system, best effort; keepalived keeps its own", () => {
    expect(renderDaemonUnit('systemd', daemons.haproxy(LB))).toMatch(/^LimitNOFILE=2600000$/m);
    const raise = /^\tulimit -n 2600000 2>\/dev\/null \|\| ulimit -n "\$\(ulimit -H -n\)" 2>\/dev\/null \|\| (:|true)$/m;
    expect(renderDaemonUnit('sysvinit', daemons.haproxy(LB))).toMatch(raise);
    const job = renderDaemonUnit('upstart', daemons.haproxy(LB));
    // inside the script block, before the exec: a `limit` stanza would fail the job when refused
    expect(job.slice(job.indexOf('\nscript\n'), job.indexOf('\texec '))).toMatch(raise);
    expect(job).not.toMatch(/^limit /m);
    for (const kind of KINDS) {
      for (const spec of [daemons.lvs(LISTENER), daemons.vrrp()]) expect(renderDaemonUnit(kind, spec)).not.toMatch(/LimitNOFILE|ulimit/);
    }
  });

  it('runs keepalived (and so its check scripts) at niceness -10 in every init system; haproxy keeps the inherited one', () => {
    for (const spec of [daemons.lvs(LISTENER), daemons.vrrp()]) {
      expect(renderDaemonUnit('systemd', spec)).toMatch(/^Nice=-10$/m);
      expect(renderDaemonUnit('upstart', spec)).toMatch(/^nice -10$/m);
      expect(renderDaemonUnit('sysvinit', spec)).toMatch(/^\tsetsid nice -n -10 \/sbin\/ip netns exec /m);
    }
    for (const kind of KINDS) expect(renderDaemonUnit(kind, daemons.haproxy(LB))).not.toMatch(/nice/i);
    // 0 is a niceness too, not "none"
    expect(renderDaemonUnit('systemd', { ...daemons.lvs(LISTENER), nice: 0 })).toMatch(/^Nice=0$/m);
    for (const nice of [-21, 20, 1.5, Number.NaN]) expect(() => renderDaemonUnit('systemd', { ...daemons.lvs(LISTENER), nice })).toThrow(/invalid niceness/);
  });

  it('refuses any word that could add a directive or a command', () => {
    const bad = { ...daemons.lvs(LISTENER), pidFile: '/var/run/x.pid\nExecStartPre=/bin/rm -rf /' };
    expect(() => renderDaemonUnit('systemd', bad)).toThrow(/not a safe configuration word/);
    expect(() => renderDaemonUnit('sysvinit', { ...daemons.lvs(LISTENER), argv: ['/bin/true', '$(reboot)'] })).toThrow(/argv\[1\]/);
    expect(() => renderDaemonUnit('upstart', { ...daemons.lvs(LISTENER), description: 'x"\nexec /bin/sh' })).toThrow(/unsafe unit description/);
    expect(() => renderNetnsUnit('systemd', { ...daemons.netns(), namespace: 'a b' })).toThrow(/namespace/);
    const signal = 'HUP\nExecStartPre=/bin/sh' as 'HUP';
    expect(() => renderDaemonUnit('systemd', { ...daemons.haproxy(LB), reload: { signal, acknowledged: /x/, failed: null } })).toThrow(/unknown reload signal/);
    for (const nofile of [0, -5, 2.5, Number.NaN]) expect(() => renderDaemonUnit('sysvinit', { ...daemons.haproxy(LB), nofile })).toThrow(/invalid open-file limit/);
  });
});
