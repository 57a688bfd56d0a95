#!/usr/bin/env node
/**
 * Nova for the controller-VM tier: boots one User-Mode Linux guest per amphora the compute
 * driver (drivers/octctl_vm_drivers.py) builds, and kills it when the driver deletes it.
 *
 * usage: node vm-launcher.mjs STATE_DIR   (started by the shared up.sh as amp-launcher.sh)
 * env: CVM_DIR (the VM directories, see drivers/), CVM_FABRIC_NS (the namespace holding the
 *      management bridge brm and the VIP bridge brv), CVM_REPO, CVM_NODE, CVM_VM_MEM (MiB),
 *      CVM_ROOTFS (an amphora image's root: our agent's amphorae boot on it, see run.mjs --rootfs)
 *
 * Every 0.3 s it looks at $CVM_DIR/vms/<compute id>/: a request.json without `running` is a VM to
 * boot (two taps, tm<slot> on brm and tv<slot> on brv; the guest is test/e2e/vm/init.sh with
 * vm/prepare-amphora.sh, the agent kind read from $STATE/agent-kind at boot); a `delete` marker
 * is a VM to kill (SIGKILL to its process group: a VM deleted by Nova is gone at once, its
 * keepalived processes and VIP with it). It writes `running` when the guest process starts and
 * `gone` when it has ended. On SIGTERM it kills every VM and exits.
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const STATE = process.argv[2];
const { CVM_DIR, CVM_FABRIC_NS: NS, CVM_REPO: REPO, CVM_NODE: NODE, CVM_ROOTFS: ROOTFS = '' } = process.env;
const MEM = process.env.CVM_VM_MEM ?? '768';
const UML = '/usr/bin/linux.uml';
const VMS = join(CVM_DIR, 'vms');
// VMs the tier asks for itself (the tenant VM), in the same layout; their request.json may name
// another overlay preparation (`prepare`, a file of vm/) and extra vm.env lines (`env`)
const EXTRA = join(CVM_DIR, 'extra');
const live = new Map(); // compute id -> { child, slot }
const t0 = Date.now();
const log = (msg) => process.stdout.write(`${new Date().toISOString().slice(11, 23)} ${msg}\n`);
const atomic = (path, text) => {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
};
const ip = (...args) => execFileSync('ip', ['-n', NS, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });

function taps(slot) {
  return [
    [`tm${slot}`, 'brm'],
    [`tv${slot}`, 'brv'],
  ];
}

function boot(dir, id, req) {
  const kind = req.prepare ? 'tenant' : readFileSync(join(STATE, 'agent-kind'), 'utf8').trim();
  // only our agent's amphorae run the image: the reference agent is Debian 12's package on this
  // machine's root, and the tenant VM is no amphora
  const rootfs = kind === 'ts' ? ROOTFS : '';
  mkdirSync(join(dir, 'logs'), { recursive: true });
  mkdirSync(join(dir, 'cmd'), { recursive: true });
  writeFileSync(
    join(dir, 'vm.env'),
    [`KIND=${kind}`, `ROOTFS=${rootfs}`, `REPO=${REPO}`, `NODE=${NODE}`, `MGMT_IP=${req.mgmt_ip}`, `MGMT_PREFIX=${req.mgmt_prefix}`, `VIP_MAC=${req.vip_mac}`, `AMPHORA_ID=${req.amphora_id}`, ...Object.entries(req.env ?? {}).map(([k, v]) => `${k}="${v}"`), ''].join('\n'),
  );
  for (const [tap, bridge] of taps(req.slot)) {
    ip('tuntap', 'add', 'dev', tap, 'mode', 'tap');
    ip('link', 'set', tap, 'master', bridge, 'up');
  }
  const cmdline = [
    `mem=${MEM}M`, 'root=/dev/root', 'rootfstype=hostfs', 'rootflags=/', 'ro',
    `init=${join(REPO, 'test', 'e2e', 'vm', 'init.sh')}`,
    'con0=null,fd:1', 'con=null', 'ssl=null', 'panic=-1', 'loglevel=4', 'net.ifnames=0', 'systemd.show_status=auto',
    `e2e.work=${dir}`, ...(rootfs ? [`e2e.root=${rootfs}`] : []), `e2e.prepare=${join(REPO, 'test', 'controller-vm', 'vm', req.prepare ?? 'prepare-amphora.sh')}`,
    ...['systemd-udevd.service', 'systemd-udev-trigger.service', 'systemd-udevd-kernel.socket', 'systemd-udevd-control.socket'].map((u) => `systemd.mask=${u}`),
    `vec0:transport=tap,ifname=tm${req.slot}`, `vec1:transport=tap,ifname=tv${req.slot}`,
  ];
  const out = openSync(join(dir, 'logs', 'console.log'), 'a');
  // UML backs the guest's memory with an unlinked file in $TMPDIR: keep it in RAM
  const child = spawn('ip', ['netns', 'exec', NS, UML, ...cmdline], { detached: true, stdio: ['ignore', out, out], env: { ...process.env, TMPDIR: '/dev/shm' } });
  live.set(id, { child, slot: req.slot });
  atomic(join(dir, 'running'), `${JSON.stringify({ pid: child.pid, kind, t: Date.now() / 1000 })}\n`);
  log(`amphora ${req.amphora_id}: ${kind} VM${rootfs ? ' on the image' : ''} slot ${req.slot} (${req.mgmt_ip}, ${req.vip_mac}) booting, pid ${child.pid}, ${((Date.now() / 1000 - req.created)).toFixed(1)} s after the build`);
  child.on('exit', (code, signal) => {
    live.delete(id);
    for (const [tap] of taps(req.slot)) {
      try {
        ip('link', 'del', tap);
      } catch {
        // gone with the namespace
      }
    }
    atomic(join(dir, 'gone'), `${JSON.stringify({ code, signal, t: Date.now() / 1000 })}\n`);
    log(`amphora ${req.amphora_id}: VM slot ${req.slot} ended (${signal ?? `exit ${code}`})`);
  });
}

function kill(id) {
  const vm = live.get(id);
  if (!vm || vm.killed) return;
  vm.killed = true;
  try {
    process.kill(-vm.child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function tick() {
  for (const parent of [VMS, EXTRA]) {
    let ids = [];
    try {
      ids = readdirSync(parent);
    } catch {
      continue;
    }
    for (const id of ids) look(join(parent, id), id);
  }
}

/** One VM directory: boot it, kill it, or leave it. */
function look(dir, id) {
  if (live.has(id)) {
    if (existsSync(join(dir, 'delete'))) {
      log(`compute ${id}: deleted by the controller, killing the VM`);
      kill(id);
    }
    return;
  }
  if (existsSync(join(dir, 'running')) || existsSync(join(dir, 'gone')) || !existsSync(join(dir, 'request.json'))) return;
  if (existsSync(join(dir, 'delete'))) {
    atomic(join(dir, 'gone'), `${JSON.stringify({ code: null, signal: null, never_booted: true, t: Date.now() / 1000 })}\n`);
    return;
  }
  try {
    boot(dir, id, JSON.parse(readFileSync(join(dir, 'request.json'), 'utf8')));
  } catch (err) {
    log(`compute ${id}: cannot boot: ${err.message}`);
    atomic(join(dir, 'gone'), `${JSON.stringify({ error: err.message, t: Date.now() / 1000 })}\n`);
  }
}

function stop(sig) {
  log(`${sig}: killing ${live.size} VM(s)`);
  for (const id of live.keys()) kill(id);
  const end = Date.now() + 3000;
  const wait = () => (live.size === 0 || Date.now() > end ? process.exit(0) : setTimeout(wait, 100));
  wait();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
log(`launcher started (fabric ${NS}, VMs in ${VMS}, ${MEM} MiB each) ${(Date.now() - t0) / 1000}`);
setInterval(tick, 300);
