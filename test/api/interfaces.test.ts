/**
 * GET /1.0/interface/{ip} and PUT /1.0/interface/{ip}/rules over the production wiring with a
 * FakeRunner: `ip -j addr show` and `nft` are scripted, files are real (a temporary root).
 * Every 400 shape, the 404s, address spellings, what is run where, and that bad input writes
 * nothing and runs nothing. The real ip and nft are the integration tier's
 * (test/integration/vip-firewall.test.ts).
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { apiApp } from '../support/api-app.js';

const IP = '/sbin/ip';
const NFT = '/usr/sbin/nft';
const addrJson = JSON.stringify([
  { ifindex: 1, ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }, { family: 'inet6', local: '::1', prefixlen: 128 }] },
  {
    ifindex: 3,
    ifname: 'eth1',
    addr_info: [
      { family: 'inet', local: '198.51.100.11', prefixlen: 24 },
      { family: 'inet6', local: '2001:db8::1', prefixlen: 64 },
      { family: 'inet6', local: 'fe80::f816:3eff:fef2:2058', prefixlen: 64 },
    ],
  },
  { ifindex: 4, ifname: 'eth2', addr_info: [{ family: 'inet', local: '203.0.113.5', prefixlen: 26 }] },
]);

/** The API app with the amphora namespace present and its addresses scripted. */
async function amphora(options: { namespace?: boolean } = {}) {
  const t = await apiApp();
  if (options.namespace ?? true) {
    mkdirSync(join(t.root, 'netns'), { recursive: true });
    writeFileSync(join(t.root, 'netns', 'amphora-haproxy'), '');
  }
  t.runner.on([IP, '-j', 'addr', 'show'], { stdout: addrJson });
  t.runner.on([NFT, '-o', '-f'], { exitCode: 0 });
  const commands = () => t.runner.runs.map((r) => ({ argv: r.argv.slice(r.netns ? 4 : 0), netns: r.netns }));
  return { ...t, commands };
}

describe('GET /1.0/interface/{ip}', () => {
  it.each([
    ['198.51.100.11', 'eth1'],
    ['203.0.113.5', 'eth2'],
    ['2001:db8::1', 'eth1'],
    ['2001:DB8::0:1', 'eth1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', 'eth1'],
    ['FE80::F816:3EFF:FEF2:2058', 'eth1'],
    ['127.0.0.1', 'lo'],
  ])('finds %s on %s, reading the addresses inside the amphora namespace', async (ip, ifname) => {
    const t = await amphora();
    const res = await request(t.app).get(`/1.0/interface/${ip}`).expect(200);
    expect(res.body).toEqual({ message: 'OK', interface: ifname });
    expect(t.commands()).toEqual([{ argv: [IP, '-j', 'addr', 'show'], netns: 'amphora-haproxy' }]);
  });

  it.each(['not-an-ip', '198.51.100.256', '198.051.100.11', '2001:db8::1::2', '12345::1'])('answers 400 for %s and runs nothing', async (ip) => {
    const t = await amphora();
    const res = await request(t.app).get(`/1.0/interface/${ip}`).expect(400);
    expect(res.body).toEqual({ message: 'Invalid IP address', code: 'invalid_input' });
    expect(t.runner.calls).toEqual([]);
  });

  it.each(['198.51.100.12', '2001:db8::2', 'fe80::f816:3eff:fef2:2058%eth1'])('answers 404 for %s, held by no interface', async (ip) => {
    const t = await amphora();
    const res = await request(t.app).get(`/1.0/interface/${encodeURIComponent(ip)}`).expect(404);
    expect(res.body).toEqual({ message: 'Error interface not found for IP address', code: 'not_found' });
  });

  it('answers 404 when the namespace does not exist, without creating it', async () => {
    const t = await amphora({ namespace: false });
    await request(t.app).get('/1.0/interface/198.51.100.11').expect(404);
    expect(t.runner.calls).toEqual([]);
    expect(existsSync(join(t.root, 'netns', 'amphora-haproxy'))).toBe(false);
  });
});

const rulesUrl = (ip = '198.51.100.11') => `/1.0/interface/${ip}/rules`;
const TCP80 = { protocol: 'TCP', cidr: '198.51.100.0/24', port: 80 };

describe('PUT /1.0/interface/{ip}/rules', () => {
  it('renders the rules for the interface holding the address, loads them with nft inside the namespace, keeps the file 0600', async () => {
    const t = await amphora();
    const rules = [TCP80, { protocol: 'vrrp', cidr: '198.51.100.12/32', port: 112 }];
    const res = await request(t.app).put(rulesUrl('2001:DB8::1')).send(rules).expect(200);
    expect(res.body).toEqual({ message: 'OK' });
    const file = t.paths.nftRulesFile;
    expect(file).toBe(join(t.root, 'lib', 'nftables-vip.rules'));
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('      iifname eth1 goto amphora_vip_chain\n');
    // after the VRRP rule, the peer's IPVS sync datagrams (ADR 0011)
    expect(text).toContain('  chain amphora_vip_chain {\n      ip saddr 198.51.100.0/24 tcp dport 80 accept\n      ip saddr 198.51.100.12/32 ip protocol 112 accept\n      ip saddr 198.51.100.12/32 udp dport 8848 accept\n  }\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(t.commands()).toEqual([
      { argv: [IP, '-j', 'addr', 'show'], netns: 'amphora-haproxy' },
      { argv: [NFT, '-o', '-f', `${file}.new`], netns: 'amphora-haproxy' },
    ]);
    expect(existsSync(`${file}.new`)).toBe(false);
  });

  it('takes the body whatever its Content-Type, and an empty list closes the VIP chain', async () => {
    const t = await amphora();
    await request(t.app).put(rulesUrl()).set('Content-Type', 'application/octet-stream').send('[]').expect(200);
    expect(readFileSync(t.paths.nftRulesFile, 'utf8')).toContain('  chain amphora_vip_chain {\n  }\n');
  });

  it('uses the interface that holds the address (eth2 here) for the goto', async () => {
    const t = await amphora();
    await request(t.app).put(rulesUrl('203.0.113.5')).send([TCP80]).expect(200);
    expect(readFileSync(t.paths.nftRulesFile, 'utf8')).toContain('iifname eth2 goto amphora_vip_chain');
  });

  const bad: [string, string, RegExp][] = [
    ['not JSON', '[{"protocol": "TCP",', /^the body is not JSON/],
    ['an object, not an array', JSON.stringify(TCP80), /^body: /],
    ['a string item', JSON.stringify(['TCP']), /^0: /],
    ['a missing key', JSON.stringify([{ protocol: 'TCP', port: 80 }]), /^0\.cidr: /],
    ['another key', JSON.stringify([{ ...TCP80, action: 'drop' }]), /^0: .*action/],
    ['upper-case VRRP (Octavia spells it vrrp)', JSON.stringify([{ ...TCP80, protocol: 'VRRP' }]), /^0\.protocol: /],
    ['HTTP', JSON.stringify([{ ...TCP80, protocol: 'HTTP' }]), /^0\.protocol: /],
    ['a CIDR beyond /32', JSON.stringify([{ ...TCP80, cidr: '198.51.100.0/33' }]), /^0\.cidr: must be an IPv4 or IPv6 CIDR/],
    ['a CIDR that is a word', JSON.stringify([{ ...TCP80, cidr: 'any' }]), /^0\.cidr: must be an IPv4 or IPv6 CIDR/],
    ['a CIDR that would add a statement', JSON.stringify([{ ...TCP80, cidr: '198.51.100.0/24 accept; drop' }]), /^0\.cidr: /],
    ['a number as CIDR', JSON.stringify([{ ...TCP80, cidr: 24 }]), /^0\.cidr: /],
    ['port 0', JSON.stringify([{ ...TCP80, port: 0 }]), /^0\.port: /],
    ['port 65536', JSON.stringify([{ ...TCP80, port: 65536 }]), /^0\.port: /],
    ['port 80.5', JSON.stringify([{ ...TCP80, port: 80.5 }]), /^0\.port: /],
    ['port as a string', JSON.stringify([{ ...TCP80, port: '80' }]), /^0\.port: /],
    ['the second rule bad', JSON.stringify([TCP80, { ...TCP80, port: -1 }]), /^1\.port: /],
  ];

  it.each(bad)('answers 400 for %s, and writes and runs nothing', async (_what, body, details) => {
    const t = await amphora();
    const res = await request(t.app).put(rulesUrl()).set('Content-Type', 'application/json').send(body).expect(400);
    expect(res.body).toMatchObject({ message: 'Invalid rules information', code: 'invalid_input' });
    expect(res.body.details).toMatch(details);
    expect(t.runner.calls).toEqual([]);
    expect(existsSync(t.paths.nftRulesFile)).toBe(false);
  });

  it('answers 400 "Invalid IP address" for a bad address before it reads the body', async () => {
    const t = await amphora();
    const res = await request(t.app).put(rulesUrl('198.51.100')).send('not json').expect(400);
    expect(res.body).toEqual({ message: 'Invalid IP address', code: 'invalid_input' });
    expect(t.runner.calls).toEqual([]);
  });

  it('answers 404 when no interface holds the address, and writes nothing', async () => {
    const t = await amphora();
    const res = await request(t.app).put(rulesUrl('198.51.100.99')).send([TCP80]).expect(404);
    expect(res.body).toEqual({ message: 'Error interface not found for IP address', code: 'not_found' });
    expect(existsSync(t.paths.nftRulesFile)).toBe(false);
    expect(t.runner.calls.some((c) => c.includes(NFT))).toBe(false);
  });

  it('keeps the previous file when nft refuses the new ruleset, answers 500 with its output and keeps the refused copy', async () => {
    const t = await amphora();
    await request(t.app).put(rulesUrl()).send([TCP80]).expect(200);
    const before = readFileSync(t.paths.nftRulesFile, 'utf8');
    t.runner.on([NFT, '-o', '-f'], { exitCode: 1, stderr: 'Error: Could not process rule: No such file or directory\n' });
    const res = await request(t.app).put(rulesUrl()).send([{ protocol: 'SCTP', cidr: null, port: 9000 }]).expect(500);
    expect(res.body).toMatchObject({ code: 'command_failed', details: expect.stringContaining('Could not process rule') });
    expect(readFileSync(t.paths.nftRulesFile, 'utf8')).toBe(before);
    expect(readFileSync(`${t.paths.nftRulesFile}.new-failed`, 'utf8')).toContain('sctp dport 9000 accept');
    expect(existsSync(`${t.paths.nftRulesFile}.new`)).toBe(false);
  });
});
