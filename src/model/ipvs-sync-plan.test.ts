/**
 * The sync plan read from VRRP configs as Octavia's keepalived_base.template renders them (IPv4 and
 * IPv6 VRRP networks), what is refused before it can reach an argv, and the reading of
 * `ipvsadm -L --daemon` as the UML kernel printed it (test/e2e/vm/probes/ipvs-sync.sh).
 */
import { describe, expect, it } from 'vitest';
import { IPVS_SYNC_GROUP_V4, IPVS_SYNC_GROUP_V6, ipvsSyncPlan, matchesPlan, parseSyncDaemons, startDaemonArgs, type IpvsSyncPlan } from './ipvs-sync-plan.js';

/** keepalived_base.template's shape, with the values of one amphora. */
function octaviaVrrp(o: { intf?: string; vrid?: string; src?: string; peer?: string } = {}): string {
  return `vrrp_script check_script {
    script /var/lib/octavia/vrrp/check_script.sh
    interval 5
    fall 2
    rise 2
}

vrrp_instance 7b0e3a2c4d5e4f60a1b2c3d4e5f60718 {
    state MASTER
    interface ${o.intf ?? 'eth1'}
    virtual_router_id ${o.vrid ?? '1'}
    priority 100
    nopreempt
    accept
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass 0123456
    }

    unicast_src_ip ${o.src ?? '10.0.0.11'}
    unicast_peer {
        ${o.peer ?? '10.0.0.12'}
    }

    virtual_ipaddress {
        10.0.0.100
    }
    track_script {
        check_script
    }
}
`;
}

describe('ipvsSyncPlan', () => {
  it('takes the interface, virtual_router_id and peers of the first vrrp_instance; IPv4 group for an IPv4 VRRP network', () => {
    expect(ipvsSyncPlan(octaviaVrrp())).toEqual({ interface: 'eth1', syncId: 1, group: IPVS_SYNC_GROUP_V4, peers: ['10.0.0.12'] });
  });

  it('uses the IPv6 link-local group for an IPv6 VRRP network (an IPv4 master there has no address to send from)', () => {
    const plan = ipvsSyncPlan(octaviaVrrp({ src: 'fd00::11', peer: 'fd00::12', vrid: '42' }));
    expect(plan).toEqual({ interface: 'eth1', syncId: 42, group: IPVS_SYNC_GROUP_V6, peers: ['fd00::12'] });
  });

  it('ignores comments as keepalived does', () => {
    expect(ipvsSyncPlan(octaviaVrrp({ intf: 'eth1 # the VIP port' }))).toMatchObject({ interface: 'eth1' });
  });

  it.each([
    ['no vrrp_instance', 'global_defs {\n}\n', /no vrrp_instance/],
    ['an interface name with a slash', octaviaVrrp({ intf: 'a/b' }), /no usable interface/],
    ['an interface name that reads as an option', octaviaVrrp({ intf: '--help' }), /no usable interface/],
    ['a virtual_router_id of 0', octaviaVrrp({ vrid: '0' }), /virtual_router_id/],
    ['a virtual_router_id over 255', octaviaVrrp({ vrid: '256' }), /virtual_router_id/],
    ['a peer that is no address', octaviaVrrp({ peer: '--syncid' }), /not an address/],
  ])('refuses %s', (_what, text, reason) => {
    expect(ipvsSyncPlan(text)).toMatch(reason);
  });
});

describe('startDaemonArgs', () => {
  it('names the role, interface, sync id and group as separate arguments', () => {
    const plan = ipvsSyncPlan(octaviaVrrp()) as IpvsSyncPlan;
    expect(startDaemonArgs(plan, 'backup')).toEqual(['--start-daemon', 'backup', '--mcast-interface', 'eth1', '--syncid', '1', '--mcast-group', '224.0.0.81']);
  });
});

describe('parseSyncDaemons', () => {
  // ipvsadm v1.31 on the UML kernel (6.1), both daemons running
  const both = 'master sync daemon (mcast=eth1, syncid=7, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\nbackup sync daemon (mcast=eth1, syncid=7, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n';

  it('reads each running daemon', () => {
    expect(parseSyncDaemons(both)).toEqual([
      { role: 'master', interface: 'eth1', syncId: 7, group: '224.0.0.81' },
      { role: 'backup', interface: 'eth1', syncId: 7, group: '224.0.0.81' },
    ]);
  });

  it('reads nothing from the empty output of a namespace without daemons', () => {
    expect(parseSyncDaemons('')).toEqual([]);
  });

  it('tells a daemon of another sync id or group from the planned one', () => {
    const plan: IpvsSyncPlan = { interface: 'eth1', syncId: 7, group: '224.0.0.81', peers: [] };
    const [master] = parseSyncDaemons(both);
    expect(master && matchesPlan(master, plan)).toBe(true);
    expect(master && matchesPlan(master, { ...plan, syncId: 8 })).toBe(false);
    expect(master && matchesPlan(master, { ...plan, group: IPVS_SYNC_GROUP_V6 })).toBe(false);
    expect(master && matchesPlan(master, { ...plan, interface: 'eth2' })).toBe(false);
  });
});
