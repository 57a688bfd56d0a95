import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLvsLayout } from '../../model/lvs-layout.js';
import { FakeRunner } from '../../../test/fakes/fake-runner.js';
import { expectedServices, lvsStartProof } from './start-proof.js';

const layout = (members: { address: string | null; disabled?: boolean }[], vips = [{ address: '203.0.113.10', port: 53 }, { address: '2001:db8::10', port: 53 }]) => ({
  listenerDisabled: false,
  virtualServers: vips,
  pool: { id: 'p', checked: true, members: members.map((m, i) => ({ id: `m${i}`, address: m.address, port: m.address === null ? null : 53, disabled: m.disabled ?? false })) },
});

describe('expectedServices (what a started keepalived must have put in IPVS)', () => {
  it('each virtual server with an enabled member of its family; none without members or for a disabled listener', () => {
    expect(expectedServices('UDP', layout([{ address: '198.51.100.1' }]))).toEqual([{ protocol: 'UDP', address: '203.0.113.10', port: 53 }]);
    expect(expectedServices('SCTP', layout([{ address: '198.51.100.1' }, { address: '2001:db8::1' }])).map((s) => s.address)).toEqual(['203.0.113.10', '2001:db8::10']);
    expect(expectedServices('UDP', layout([{ address: '198.51.100.1', disabled: true }, { address: null, disabled: true }]))).toEqual([]);
    expect(expectedServices('UDP', { ...layout([{ address: '198.51.100.1' }]), listenerDisabled: true })).toEqual([]);
    expect(expectedServices('UDP', { ...layout([]), pool: null })).toEqual([]);
  });

  it('reads an Octavia-rendered config the same way (parseLvsLayout of the templater\'s output)', () => {
    const text = readFileSync(new URL('../../model/__fixtures__/octavia-lvs/udp-connect.conf', import.meta.url), 'utf8');
    expect(expectedServices('UDP', parseLvsLayout(text))).toEqual(parseLvsLayout(text).virtualServers.map((v) => ({ protocol: 'UDP', ...v })));
    expect(expectedServices('UDP', parseLvsLayout(text))).not.toEqual([]);
  });
});

describe('lvsStartProof', () => {
  it('asks ipvsadm for each service in the namespace, bracketing IPv6; missing ones are named and looked for again', async () => {
    const runner = new FakeRunner().on(['/sbin/ipvsadm', '-L', '-n', '--sctp-service', '[2001:db8::10]:53'], { exitCode: 1, stderr: 'No such service' }).on(['/sbin/ipvsadm', '-L', '-n'], { exitCode: 0 });
    const proof = lvsStartProof(runner, () => '/sbin/ipvsadm', 'ns1', 'SCTP', layout([{ address: '198.51.100.1' }, { address: '2001:db8::1' }]));
    expect(await proof?.()).toEqual({ holds: false, final: false, why: 'its virtual servers are not in IPVS in namespace ns1: SCTP [2001:db8::10]:53' });
    expect(runner.calls.map((c) => c.join(' '))).toEqual(['ip netns exec ns1 /sbin/ipvsadm -L -n --sctp-service 203.0.113.10:53', 'ip netns exec ns1 /sbin/ipvsadm -L -n --sctp-service [2001:db8::10]:53']);
  });

  it('a kernel without IPVS is a final answer; nothing expected: no proof at all', async () => {
    const runner = new FakeRunner().on(['/sbin/ipvsadm'], { exitCode: 2, stderr: "Can't initialize ipvs: Protocol not available" });
    const proof = lvsStartProof(runner, () => '/sbin/ipvsadm', 'ns1', 'UDP', layout([{ address: '198.51.100.1' }]));
    expect(await proof?.()).toMatchObject({ holds: false, final: true });
    expect(lvsStartProof(runner, () => '/sbin/ipvsadm', 'ns1', 'UDP', layout([]))).toBeUndefined();
  });
});
