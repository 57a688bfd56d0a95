/**
 * @module test/image/lib/image-tree
 * Reads a built image's root file system from its tar (DIB's `-t tar` output) without unpacking
 * it: the installed packages and their versions (dpkg's status file) and the things the element
 * promises, checked in the tree as it will boot: the agent's command, its unit enabled, the stock
 * keepalived, haproxy and ipvsadm units not enabled, ifupdown for the management NIC, /etc/octavia laid out for the config drive,
 * cloud-init limited to the ConfigDrive data source, logrotate for the agent's log, no npm.
 * Must not: change the tar or decide what a failed check means (lib/build.mjs does).
 */
import { execFileSync } from 'node:child_process';

const BIG = 256 * 1024 * 1024;

/** Entries of the tar: path (without a leading ./) -> { mode, owner, link }. */
function listing(tar) {
  const out = execFileSync('tar', ['--numeric-owner', '-tvf', tar], { encoding: 'utf8', maxBuffer: BIG });
  const entries = new Map();
  for (const line of out.split('\n')) {
    // drwxr-xr-x 0/0 0 2026-12-06 20:00 ./etc/octavia/   |   lrwxrwxrwx 0/0 0 ... ./a -> b
    const m = /^(\S{10})\s+(\d+)\/(\d+)\s+\d+\s+\S+\s+\S+\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, mode, uid, gid, rest] = m;
    const [path, link] = rest.split(' -> ');
    entries.set(path.replace(/^\.\//, '').replace(/\/$/, ''), { mode, owner: `${uid}:${gid}`, link });
  }
  return entries;
}

/** The content of one file of the tar ('' when it is not there). */
function read(tar, path) {
  try {
    return execFileSync('tar', ['-xOf', tar, `./${path}`], { encoding: 'utf8', maxBuffer: BIG, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

/** Installed packages: name -> version, from var/lib/dpkg/status. */
function packages(tar) {
  const installed = new Map();
  for (const stanza of read(tar, 'var/lib/dpkg/status').split('\n\n')) {
    const field = (k) => new RegExp(`^${k}: (.*)$`, 'm').exec(stanza)?.[1];
    if (field('Status')?.endsWith(' installed')) installed.set(field('Package'), field('Version'));
  }
  return installed;
}

/**
 * Versions and checks of the image in `tar`. `nodeFromTarball`: the image's node is the one
 * DIB_AMPHORA_AGENT_NODE_TARBALL unpacked (so no nodejs package is expected).
 */
export function inspectImageTree(tar, { nodeFromTarball = false } = {}) {
  const entries = listing(tar);
  const pkgs = packages(tar);
  const has = (p) => entries.has(p);
  const kernels = [...pkgs.keys()].filter((p) => /^linux-image-\d/.test(p)).sort();
  const versions = {
    nodejs: pkgs.get('nodejs') ?? null,
    keepalived: pkgs.get('keepalived') ?? null,
    haproxy: pkgs.get('haproxy') ?? null,
    kernel: kernels.map((k) => `${k.replace(/^linux-image-/, '')} (${pkgs.get(k)})`).join(', ') || null,
    systemd: pkgs.get('systemd') ?? null,
    cloud_init: pkgs.get('cloud-init') ?? null,
    ipvsadm: pkgs.get('ipvsadm') ?? null,
    nftables: pkgs.get('nftables') ?? null,
    packages: pkgs.size,
  };
  const wants = 'etc/systemd/system/multi-user.target.wants';
  const dir = (p, mode) => entries.get(p)?.mode === mode && entries.get(p)?.owner === '0:0';
  const datasources = read(tar, 'etc/cloud/cloud.cfg.d/91-dib-cloud-init-datasources.cfg');
  const checks = [
    ['the agent command /usr/local/bin/amphora-agent', has('usr/local/bin/amphora-agent')],
    ['the agent unit installed and enabled', has('usr/lib/systemd/system/amphora-agent.service') && has(`${wants}/amphora-agent.service`)],
    ...['keepalived', 'haproxy', 'ipvsadm'].map((d) => [`stock ${d}.service not enabled`, pkgs.has(d) && !has(`${wants}/${d}.service`)]),
    ['management NIC: ifupdown for cloud-init, no fixed eth0/eth1 stanzas', pkgs.has('ifupdown') && !has('etc/network/interfaces.d/eth0') && !has('etc/network/interfaces.d/eth1')],
    ['/etc/octavia 0755 root', dir('etc/octavia', 'drwxr-xr-x')],
    ['/etc/octavia/certs 0700 root', dir('etc/octavia/certs', 'drwx------')],
    ['/var/lib/octavia 0755 root', dir('var/lib/octavia', 'drwxr-xr-x')],
    ['cloud-init installed, data sources ConfigDrive (then None)', pkgs.has('cloud-init') && /datasource_list:\s*\[\s*ConfigDrive,\s*None\s*\]/.test(datasources)],
    ['cloud-init can grow the root to the flavor disk (growpart, resize2fs)', pkgs.has('cloud-guest-utils') && pkgs.has('e2fsprogs')],
    ['logrotate rule for the agent log', pkgs.has('logrotate') && /amphora-agent\.log/.test(read(tar, 'etc/logrotate.d/amphora-agent'))],
    ['no npm in the image', !pkgs.has('npm') && !has('usr/bin/npm') && !has('usr/local/bin/npm')],
    [nodeFromTarball ? 'node from the given tarball in /usr/local/bin' : 'node from the nodejs package', nodeFromTarball ? has('usr/local/bin/node') : pkgs.has('nodejs')],
    ...['keepalived', 'haproxy', 'ipvsadm', 'iproute2', 'nftables', 'netcat-openbsd'].map((p) => [`package ${p}`, pkgs.has(p)]),
  ].map(([name, ok]) => ({ name, ok: Boolean(ok) }));
  return { versions, checks, ok: checks.every((c) => c.ok) };
}
