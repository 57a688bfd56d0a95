/**
 * The boot bring-up over a FakeRunner that keeps a small link table per namespace: the
 * plugged_interfaces lines (parsed strictly, MACs in any case), the NICs moved from the agent's
 * namespace under their recorded names, the ones already inside left alone (a second run moves
 * nothing), a MAC that is nowhere or a name taken inside reported while the others still move,
 * lo.json written, and AmphoraNamespace's restore hook run only when it had to create the
 * namespace, with its errors logged and not thrown.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../test/fakes/fake-runner.js';
import { parseConfig } from '../../config/load.js';
import { silentLogger } from '../../log.js';
import { parsePluggedInterfaces } from '../../model/plug/plugged-interfaces.js';
import { createPaths } from '../../system/paths.js';
import { AmphoraNamespace } from '../namespace.js';
import { buildStandaloneNetwork } from './build.js';

const NS = 'amp-test';
type LinkRow = { ifname: string; address: string; mtu: number; flags: string[] };
const row = (ifname: string, address: string, up = false): LinkRow => ({ ifname, address, mtu: 1500, flags: up ? ['UP'] : [] });

/** `ip` over two link tables: `link set dev X netns NS name Y` moves a row. */
function fakeIp(home: LinkRow[], inside: LinkRow[]) {
  const runner = new FakeRunner('/sbin/ip');
  runner.on(['/sbin/ip', '-j', 'link', 'show'], (_argv, o) => ({ stdout: JSON.stringify(o.netns ? inside : home) }));
  runner.on(['/sbin/ip', '-j', 'addr', 'show', 'dev', 'lo'], () => ({ stdout: JSON.stringify([{ ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' }] }]) }));
  runner.on(['/sbin/ip', '-j'], { stdout: '[]' });
  runner.on(['/sbin/ip', 'link', 'set', 'dev'], (argv) => {
    const [, , , , dev, , ns, , name] = argv;
    const i = home.findIndex((l) => l.ifname === dev);
    if (i < 0 || ns !== NS || name === undefined) return { exitCode: 1, stderr: `Cannot find device "${dev}"` };
    inside.push({ ...home.splice(i, 1)[0]!, ifname: name });
    return { exitCode: 0 };
  });
  return runner;
}

function setup(plugged: string, home: LinkRow[], inside: LinkRow[]) {
  const root = mkdtempSync(join(tmpdir(), 'interfaces-boot-'));
  const config = parseConfig([
    {
      path: '/x.conf',
      text: `[haproxy_amphora]\nbase_path = ${root}/lib\n[amphora_agent]\nnetwork_namespace = ${NS}\nip_cmd = /sbin/ip\nnetns_run_dir = ${root}/netns\nagent_server_network_dir = ${root}/interfaces\nplugged_interfaces_file = ${root}/plugged\n`,
    },
  ]).config;
  writeFileSync(join(root, 'plugged'), plugged);
  const paths = createPaths(config);
  const runner = fakeIp(home, inside);
  const namespace = new AmphoraNamespace(() => config, paths, runner);
  const network = buildStandaloneNetwork({ config: () => config, paths, runner, namespace, bindHost: null, homeNetns: 'home', log: silentLogger() });
  const moves = () => runner.calls.filter((c) => c.join(' ').startsWith('/sbin/ip link set dev'));
  return { root, paths, runner, network, home, inside, moves };
}

describe('parsePluggedInterfaces', () => {
  it('reads "<mac> <ifname>" lines in any case, sorted by MAC, and names each damaged line', () => {
    const text = 'FA:16:3E:00:00:02 eth2\n\nfa:16:3e:00:00:01 eth1\nfa:16:3e:00:00:01 eth5\nnot-a-mac eth3\nfa:16:3e:00:00:04 -rf\nfa:16:3e:00:00:05 eth4 extra\n';
    expect(parsePluggedInterfaces(text)).toEqual({
      entries: [
        { mac: 'fa:16:3e:00:00:01', name: 'eth1' },
        { mac: 'fa:16:3e:00:00:02', name: 'eth2' },
      ],
      problems: [
        'line 4: fa:16:3e:00:00:01 is listed twice',
        'line 5: not "<mac> <ifname>": "not-a-mac eth3"',
        'line 6: not "<mac> <ifname>": "fa:16:3e:00:00:04 -rf"',
        'line 7: not "<mac> <ifname>": "fa:16:3e:00:00:05 eth4 extra"',
      ],
    });
  });
});

describe('InterfacesBoot.restore', () => {
  it('moves the plugged NICs in under their recorded names, then brings every file up; a second run moves nothing', async () => {
    const t = setup('FA:16:3E:00:00:01 eth1\nfa:16:3e:00:00:02 eth2\n', [row('ens3', 'fa:16:3e:00:00:01'), row('ens4', 'fa:16:3e:00:00:02')], [row('lo', '00:00:00:00:00:00', true)]);
    expect(await t.network.interfacesBoot.restore()).toEqual({ moved: ['fa:16:3e:00:00:01 ens3 -> eth1', 'fa:16:3e:00:00:02 ens4 -> eth2'], up: ['lo'] });
    // moved from the agent's own namespace: no `ip netns exec` prefix
    expect(t.moves()).toEqual([
      ['/sbin/ip', 'link', 'set', 'dev', 'ens3', 'netns', NS, 'name', 'eth1'],
      ['/sbin/ip', 'link', 'set', 'dev', 'ens4', 'netns', NS, 'name', 'eth2'],
    ]);
    expect(JSON.parse(readFileSync(join(t.root, 'interfaces', 'lo.json'), 'utf8'))).toMatchObject({ name: 'lo', addresses: [{ address: '127.0.0.1', prefixlen: 8 }] });
    expect(await t.network.interfacesBoot.restore()).toEqual({ moved: [], up: ['lo'] });
    expect(t.moves()).toHaveLength(2);
  });

  it('reports a MAC that is nowhere and a name taken inside, and still moves and brings up the others', async () => {
    const t = setup('fa:16:3e:00:00:01 eth1\nfa:16:3e:00:00:02 eth2\nfa:16:3e:00:00:03 eth3\n', [row('ens3', 'fa:16:3e:00:00:01'), row('ens5', 'fa:16:3e:00:00:03')], [row('lo', '00:00:00:00:00:00', true), row('eth3', 'aa:bb:cc:dd:ee:ff')]);
    const err = await t.network.interfacesBoot.restore().catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'internal',
      problems: ['fa:16:3e:00:00:02 (eth2): no network interface with this MAC address', `fa:16:3e:00:00:03 (eth3): eth3 is taken in namespace ${NS} by aa:bb:cc:dd:ee:ff`],
    });
    expect(t.moves()).toEqual([['/sbin/ip', 'link', 'set', 'dev', 'ens3', 'netns', NS, 'name', 'eth1']]);
    expect(t.inside.map((l) => l.ifname)).toContain('eth1');
  });

  it('an interface file whose link is missing is reported by file, the others still come up', async () => {
    const t = setup('', [], [row('lo', '00:00:00:00:00:00', true)]);
    mkdirSync(join(t.root, 'interfaces'), { recursive: true });
    writeFileSync(join(t.root, 'interfaces', 'eth9.json'), JSON.stringify({ name: 'eth9', addresses: [], routes: [], rules: [], scripts: { up: [], down: [] } }));
    await expect(t.network.interfacesBoot.restore()).rejects.toMatchObject({ problems: [`eth9.json: Interface eth9 is not in namespace ${NS}`] });
    expect(await t.network.interfacesBoot.anythingPlugged()).toBe(true);
  });

  it('anythingPlugged: not for lo.json alone nor an empty plugged_interfaces', async () => {
    const t = setup('\n', [], []);
    await t.network.interfacesBoot.writeLoopback();
    expect(await t.network.interfacesBoot.anythingPlugged()).toBe(false);
  });
});

describe('AmphoraNamespace restore hook', () => {
  it('runs the setup script with --namespace-only, and the hook only when the namespace had to be created', async () => {
    const t = setup('', [], []);
    let restores = 0;
    t.runner.on(['/bin/sh'], () => {
      mkdirSync(join(t.root, 'netns'), { recursive: true });
      writeFileSync(join(t.root, 'netns', NS), '');
      return { exitCode: 0 };
    });
    const namespace = new AmphoraNamespace(() => parseConfig([{ path: '/x.conf', text: '' }]).config, t.paths, t.runner);
    namespace.restoreWith(async () => void restores++);
    await namespace.ensure();
    expect(restores).toBe(1);
    expect(t.runner.calls.filter((c) => c[0] === '/bin/sh')).toEqual([['/bin/sh', t.paths.netnsSetupScript, '--namespace-only']]);
    await namespace.ensure();
    expect(restores).toBe(1);
    // a new agent (restart without reboot) finds the namespace: it runs the script once, no restore
    const next = new AmphoraNamespace(() => parseConfig([{ path: '/x.conf', text: '' }]).config, t.paths, t.runner);
    next.restoreWith(async () => void restores++);
    await next.ensure();
    expect(restores).toBe(1);
    expect(existsSync(t.paths.netnsSetupScript)).toBe(true);
  });

  it('logs a failed restore and does not fail ensure()', async () => {
    const t = setup('', [], []);
    t.runner.on(['/bin/sh'], { exitCode: 0 });
    const namespace = new AmphoraNamespace(() => parseConfig([{ path: '/x.conf', text: '' }]).config, t.paths, t.runner, undefined, silentLogger());
    namespace.restoreWith(() => Promise.reject(new Error('eth1 is gone')));
    await expect(namespace.ensure()).resolves.toBeUndefined();
  });
});
