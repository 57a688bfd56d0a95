/**
 * @module test/integration/keepalived-lvs-parse
 * The LVS equivalence tests (lvs-equivalence.test.ts) are only as good as their parser
 * (test/support/keepalived-lvs-parse.ts): it must read what keepalived reads, and two configs
 * that keepalived turns into different services must not compare equal. Pure: no root, no
 * keepalived.
 */
import { describe, expect, it } from 'vitest';
import { normalizeLvs, parseLvsConfig } from '../support/keepalived-lvs-parse.js';

describe('keepalived-lvs-parse', () => {
  const config = (vs: string) => `! a comment\nnet_namespace ns1 # trailing comment\nvirtual_server_group g {\n  192.0.2.1 53\n  192.0.2.2 53\n}\n${vs}`;
  const base = `virtual_server group g {
  lb_algo wlc
  lb_kind NAT
  protocol UDP#P
  persistence_timeout 60
  real_server 192.0.2.12 53 { weight 2 }
  # real_server 192.0.2.99 53 {
  real_server 192.0.2.11 53 {
    weight 1!x
    HTTP_GET {
      url { path /a#b
        status_code 200-202 204 }
      connect_ip 192.0.2.11
      connect_timeout 3
    }
    MISC_CHECK {
      misc_path "/bin/check  192.0.2.11 53"
      misc_timeout 4
    }
  }
}
`;

  it('reads blocks, comments, quoted strings and status code ranges', () => {
    const c = parseLvsConfig(config(base));
    expect(c.namespace).toBe('ns1');
    expect(c.other).toEqual([]);
    const [vs] = c.virtualServers;
    expect(vs?.vips).toEqual(['192.0.2.1:53', '192.0.2.2:53']);
    expect(vs?.realServers.map((r) => [r.address, r.weight])).toEqual([
      ['192.0.2.12', 2],
      ['192.0.2.11', 1],
    ]);
    const checks = vs?.realServers[1]?.checks;
    expect(checks?.[0]).toMatchObject({ kind: 'HTTP_GET', urls: ['/a 200', '/a 201', '/a 202', '/a 204'], connectIp: '192.0.2.11', connectPort: null, timeout: 3 });
    expect(checks?.[1]).toMatchObject({ kind: 'MISC_CHECK', miscPath: ['/bin/check', '192.0.2.11', '53'], timeout: 4 });
  });

  it('folds only the listed equivalences', () => {
    const n = (text: string) => normalizeLvs(parseLvsConfig(config(text)));
    const same = base.replace('lb_algo wlc', 'lb_algo lc').replace('persistence_timeout 60', 'persistence_timeout 60\n  persistence_granularity 255.255.255.255');
    expect(n(same)).toEqual(n(base));
    expect(n(`${base}virtual_server 192.0.2.3 53 {\n  lb_algo wrr\n  protocol UDP\n}\n`)).toEqual(n(base));
    for (const different of [
      base.replace('weight 2', 'weight 3'),
      base.replace('lb_algo wlc', 'lb_algo wrr'),
      base.replace('protocol UDP#P', 'protocol SCTP'),
      base.replace('status_code 200-202 204', 'status_code 200-202'),
      base.replace('persistence_timeout 60', 'persistence_timeout 60\n  persistence_granularity 255.255.255.0'),
      base.replace('misc_timeout 4', 'misc_timeout 4\n      user nobody'),
      base.replace('lb_kind NAT', 'lb_kind NAT\n  quorum 2'),
    ]) {
      expect(n(different), different).not.toEqual(n(base));
    }
  });

  it('folds the UDP-CONNECT probe script into UDP_CHECK sending "X", and nothing else', () => {
    const n = (text: string) => normalizeLvs(parseLvsConfig(config(text)));
    const probe = (check: string) => base.replace(/MISC_CHECK \{[^}]*\}/, check);
    const script = probe('MISC_CHECK {\n      misc_path "/var/lib/octavia/lvs/check/udp_check.sh 192.0.2.11 53"\n      misc_timeout 4\n    }');
    const native = probe('UDP_CHECK {\n      connect_ip 192.0.2.11\n      connect_port 53\n      connect_timeout 4\n      payload 58\n    }');
    expect(n(script)).toEqual(n(native));
    for (const different of [
      native.replace('connect_port 53', 'connect_port 54'),
      native.replace('connect_ip 192.0.2.11', 'connect_ip 192.0.2.12'),
      native.replace('connect_timeout 4', 'connect_timeout 3'),
      native.replace('payload 58', 'payload 59'),
      native.replace('payload 58', 'payload 58\n      require_reply'),
      // another script, or the probe with other arguments, is not the UDP-CONNECT probe
      script.replace('/lvs/check/udp_check.sh', '/lvs/check/other.sh'),
      script.replace('192.0.2.11 53"', '192.0.2.11 53 extra"'),
    ]) {
      expect(n(different), different).not.toEqual(n(script));
    }
  });

  it('refuses unbalanced braces', () => {
    expect(() => parseLvsConfig(config(base.replace(/\}\n$/, '')))).toThrow(/missing '\}'/);
    expect(() => parseLvsConfig(`${config(base)}}\n`)).toThrow(/unexpected '\}'/);
  });
});
