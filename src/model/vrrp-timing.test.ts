import { describe, expect, it } from 'vitest';
import { vrrpFailoverSeconds } from './vrrp-timing.js';

/** The shape of the controller's VRRP config (Octavia's keepalived template), with its values. */
const octavia = (interval: number, fall: number, advert: number) => `vrrp_script check_script {
  script /var/lib/octavia/vrrp/check_script.sh
  interval ${interval}
  fall ${fall}
  rise 2
}

vrrp_instance 0c8d6b14f2d44b6b94a2fd0d8fa3bb10 {
  state MASTER
  interface eth1
  virtual_router_id 1
  priority 100
  nopreempt
  accept
  garp_master_refresh 5
  garp_master_refresh_repeat 2
  advert_int ${advert}
  authentication {
    auth_type PASS
    auth_pass 1a2b3c4d
  }
  track_script {
    check_script
  }
}
`;

describe('vrrpFailoverSeconds', () => {
  it("reads Octavia's defaults (interval 5, fall 2, advert 1): two failed runs, the last one's timeout, the master-down timer", () => {
    expect(vrrpFailoverSeconds(octavia(5, 2, 1))).toBe(5 * 2 + 5 + 4);
  });

  it('takes the slowest script and the largest advert_int; a timeout is used when given', () => {
    const text = `${octavia(2, 2, 3)}\nvrrp_script other {\n  interval 3\n  fall 4\n  timeout 1\n}\n`;
    expect(vrrpFailoverSeconds(text)).toBe(3 * 4 + 1 + 12);
  });

  it("uses keepalived's defaults where nothing is said, and the master-down timer alone without a script", () => {
    expect(vrrpFailoverSeconds('vrrp_script s {\n  script /bin/true\n}\n')).toBe(1 + 1 + 4);
    expect(vrrpFailoverSeconds('vrrp_instance v {\n  interface eth1 # interval 99\n}\n')).toBe(4);
  });
});
