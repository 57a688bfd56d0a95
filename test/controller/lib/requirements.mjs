/**
 * @module test/controller/lib/requirements
 * What the controller tier needs on this machine, as a list of what is missing (empty: the tier
 * can run): root, the shared octavia-controller and octavia-ref tools, the Debian packages that
 * the shared octavia-controller/install.sh installs, and this checkout's built agent. It only
 * looks; it installs nothing.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';

/** The files of the shared harness the tier runs (ts-agent.sh is replaced by the tier's own). */
export const HARNESS_FILES = ['lib.sh', 'up.sh', 'down.sh', 'amp-launcher.sh', 'swap-agent.sh', 'octavia.conf.in', 'drivers'];

/** Executables, each with the Debian package that provides it (octavia-controller/install.sh). */
const BINARIES = {
  '/usr/sbin/mariadbd': 'mariadb-server',
  '/usr/bin/mariadb-install-db': 'mariadb-server',
  '/usr/lib/rabbitmq/bin/rabbitmq-server': 'rabbitmq-server',
  '/usr/bin/octavia-api': 'python3-octavia',
  '/usr/bin/octavia-worker': 'octavia-worker',
  '/usr/bin/octavia-health-manager': 'octavia-health-manager',
  '/usr/bin/octavia-db-manage': 'python3-octavia',
  '/usr/bin/amphora-agent': 'octavia-agent',
  '/usr/sbin/haproxy': 'haproxy',
  '/usr/sbin/keepalived': 'keepalived',
  '/usr/bin/jq': 'jq',
  '/usr/bin/curl': 'curl',
  '/usr/bin/openssl': 'openssl',
  '/sbin/ip': 'iproute2',
  '/usr/bin/unshare': 'util-linux',
};

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Everything the tier lacks here, in words an operator can act on. */
export function lacking({ controllerDir, refDir, repo }) {
  const out = [];
  if (process.getuid?.() !== 0) out.push('root');
  const missingFiles = HARNESS_FILES.filter((f) => !existsSync(join(controllerDir, f)));
  if (missingFiles.length > 0) out.push(`the shared tools ${controllerDir}/{${missingFiles.join(',')}} (set AMPHORA_SHARED)`);
  if (!executable(join(refDir, 'reference-agent.sh'))) out.push(`${refDir}/reference-agent.sh (set AMPHORA_SHARED)`);
  for (const [bin, pkg] of Object.entries(BINARIES)) {
    if (!executable(bin)) out.push(`${bin} (package ${pkg}; run ${controllerDir}/install.sh)`);
  }
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import octavia.amphorae.drivers.haproxy, pymysql'], { stdio: 'ignore' });
  } catch {
    out.push('python3-octavia and python3-pymysql for /usr/bin/python3');
  }
  if (!existsSync(join(repo, 'dist', 'amphora-agent.mjs'))) out.push('dist/amphora-agent.mjs (npm run build)');
  return out;
}

/** Whether this kernel has IPVS: without it keepalived cannot run a UDP virtual_server. */
export function hasIpvs() {
  return existsSync('/proc/net/ip_vs');
}
