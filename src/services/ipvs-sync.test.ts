/**
 * IpvsSync (services/ipvs-sync.ts) over a FakeRunner that answers ipvsadm as the kernel did in the
 * VM (test/fakes/fake-sync-daemons.ts).
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { silentLogger } from '../log.js';
import { FakeRunner } from '../../test/fakes/fake-runner.js';
import { fakeSyncDaemons } from '../../test/fakes/fake-sync-daemons.js';
import { createPaths } from '../system/paths.js';
import { IpvsSync } from './ipvs-sync.js';

const VRRP = (vrid = 1) => `vrrp_instance g {\n    state BACKUP\n    interface eth1\n    virtual_router_id ${vrid}\n    unicast_src_ip 10.0.0.12\n    unicast_peer {\n        10.0.0.11\n    }\n}\n`;

const parse = (extra: string) => parseConfig([{ path: '/x.conf', text: `[amphora_agent]\nnetwork_namespace = amp-test\n${extra}` }]).config;

function setup() {
  // live, as PUT /1.0/config changes it
  let config = parse('');
  const runner = new FakeRunner();
  const daemons = fakeSyncDaemons(runner);
  const sync = new IpvsSync({ config: () => config, paths: createPaths(config), runner, log: silentLogger() });
  return { runner, daemons, sync, reconfigure: (extra: string) => void (config = parse(extra)) };
}
const ops = (runner: FakeRunner) => runner.runs.map((r) => `${r.netns} ${r.argv.slice(5).join(' ')}`);

describe('IpvsSync.follow', () => {
  it('starts a master and a backup daemon in the namespace on the VRRP interface, sync id = virtual_router_id', async () => {
    const { runner, daemons, sync } = setup();
    const out = await sync.follow(VRRP(3));
    expect(out.started).toHaveLength(2);
    expect(ops(runner)).toEqual([
      'amp-test -L --daemon',
      'amp-test --start-daemon master --mcast-interface eth1 --syncid 3 --mcast-group 224.0.0.81',
      'amp-test --start-daemon backup --mcast-interface eth1 --syncid 3 --mcast-group 224.0.0.81',
    ]);
    expect([...daemons.keys()]).toEqual(['master', 'backup']);
  });

  it('runs only the look when the right daemons already run (every VRRP start and reload calls it)', async () => {
    const { runner, sync } = setup();
    await sync.follow(VRRP());
    runner.runs.length = 0;
    expect(await sync.follow(VRRP())).toEqual({ started: [], stopped: [] });
    expect(ops(runner)).toEqual(['amp-test -L --daemon']);
  });

  it('replaces daemons of another sync id (a new VRRP config)', async () => {
    const { runner, daemons, sync } = setup();
    await sync.follow(VRRP(1));
    runner.runs.length = 0;
    const out = await sync.follow(VRRP(9));
    expect(out.stopped).toEqual(['master', 'backup']);
    expect(ops(runner).slice(1, 3)).toEqual(['amp-test --stop-daemon master', 'amp-test --stop-daemon backup']);
    expect(daemons.get('backup')).toContain('syncid=9');
  });

  it('stops both when no VRRP keepalived is wanted', async () => {
    const { daemons, sync } = setup();
    await sync.follow(VRRP());
    expect((await sync.follow(null)).stopped).toEqual(['master', 'backup']);
    expect(daemons.size).toBe(0);
  });

  it('stops them and starts none when ipvs_sync is false', async () => {
    const { daemons, sync, reconfigure } = setup();
    await sync.follow(VRRP());
    reconfigure('ipvs_sync = false\n');
    expect(await sync.follow(VRRP())).toEqual({ started: [], stopped: ['master', 'backup'], note: 'not wanted' });
    expect(daemons.size).toBe(0);
  });

  it('starts nothing for a config without a usable instance, and says why', async () => {
    const { daemons, sync } = setup();
    expect((await sync.follow('vrrp_instance g {\n    interface eth1\n}\n')).note).toMatch(/virtual_router_id/);
    expect(daemons.size).toBe(0);
  });

  it('never throws: a failing ipvsadm (no IPVS in the kernel) is a note, the VRRP request goes on', async () => {
    const { runner, sync } = setup();
    runner.on(['/usr/sbin/ipvsadm', '-L'], { exitCode: 2, stderr: "Can't initialize ipvs: Protocol not available\n" });
    expect((await sync.follow(VRRP())).note).toMatch(/ipvsadm|initialize/);
  });
});
