/**
 * @module test/controller-vm/lib/fabric
 * The tier's harness directory and the wiring the shared up.sh does not make.
 *
 * Harness: the shared up.sh, down.sh and octavia.conf.in linked as they are; the shared lib.sh
 * as shared-lib.sh under the tier's lib.sh (other addresses, no harness-made VIP NIC); the tier's
 * amp-launcher.sh (boots amphora VMs); drivers/ with the shared network driver and the tier's
 * compute and network drivers (up.sh puts <harness>/drivers on the services' PYTHONPATH).
 *
 * Fabric, after up.sh: in the amphora namespace (<prefix>-amp, where the VMs run and their taps
 * live) a management bridge brm that takes the controller link's peer mgmt0, and a VIP bridge
 * brv; in <prefix>-net the client (198.51.100.2), the members (.21-.24) and the subnet's gateway
 * address (.254) on net0, whose peer vnet0 is on brv.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

export const CLIENT_IP = '198.51.100.2';
export const MEMBER_IPS = ['198.51.100.21', '198.51.100.22', '198.51.100.23', '198.51.100.24'];
const GATEWAY_IP = '198.51.100.254';

export function assembleHarness({ work, controllerDir, tierDir }) {
  const dir = join(work, 'harness');
  mkdirSync(join(dir, 'drivers'), { recursive: true });
  for (const f of ['up.sh', 'down.sh', 'octavia.conf.in']) symlinkSync(join(controllerDir, f), join(dir, f));
  symlinkSync(join(controllerDir, 'lib.sh'), join(dir, 'shared-lib.sh'));
  for (const f of ['lib.sh', 'amp-launcher.sh']) symlinkSync(join(tierDir, 'harness', f), join(dir, f));
  for (const src of [join(controllerDir, 'drivers'), join(tierDir, 'drivers')]) {
    for (const f of readdirSync(src)) {
      if (f.endsWith('.py') && f !== 'selftest.py') symlinkSync(join(src, f), join(dir, 'drivers', f));
      else if (f.endsWith('.dist-info')) symlinkSync(join(src, f), join(dir, 'drivers', f));
    }
  }
  return dir;
}

const ipIn = (ns, ...args) => execFileSync('ip', ['-n', ns, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });

/** The bridges and the client/member namespace's link (see the module comment). */
export function wireFabric({ ampNs, netNs, ampIp }) {
  ipIn(ampNs, 'link', 'add', 'brm', 'type', 'bridge');
  ipIn(ampNs, 'addr', 'flush', 'dev', 'mgmt0');
  ipIn(ampNs, 'link', 'set', 'mgmt0', 'master', 'brm', 'up');
  ipIn(ampNs, 'addr', 'add', `${ampIp}/24`, 'dev', 'brm');
  ipIn(ampNs, 'link', 'set', 'brm', 'up');
  ipIn(ampNs, 'link', 'add', 'brv', 'type', 'bridge');
  ipIn(ampNs, 'link', 'set', 'brv', 'up');
  ipIn(ampNs, 'link', 'add', 'vnet0', 'type', 'veth', 'peer', 'name', 'net0', 'netns', netNs);
  ipIn(ampNs, 'link', 'set', 'vnet0', 'master', 'brv', 'up');
  for (const a of [CLIENT_IP, ...MEMBER_IPS, GATEWAY_IP]) ipIn(netNs, 'addr', 'add', `${a}/24`, 'dev', 'net0');
  ipIn(netNs, 'link', 'set', 'net0', 'up');
}
