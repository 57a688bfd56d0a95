/**
 * @module test/image/lib/qemu
 * One amphora VM under qemu with software emulation (TCG: /dev/kvm is not usable on these machines):
 * a throw-away qcow2 overlay over the image (the image stays as built), the config drive as a
 * read-only virtio disk, the serial console into a file, and two NICs as Nova would give an
 * amphora: the management NIC on qemu's user network with the agent's port forwarded to a free port
 * on the host's 127.0.0.1, and the VIP NIC (a fixed MAC the test plugs through the agent's API) on a
 * second, restricted user network (restrict=on: nothing the guest sends there leaves qemu). An empty
 * qemu hub would be quieter still, but nothing drains it: the guest's transmit queue stalled
 * (NETDEV WATCHDOG every 5 s) as soon as the plugged VIP sent its first frame.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

// Live qemu process groups: killed when this process exits however it exits (a signal handler in
// the runner calls process.exit), so no VM outlives the test.
const live = new Set();
process.on('exit', () => {
  for (const pid of live) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

export const MGMT_MAC = 'fa:16:3e:13:00:01';
export const VIP_MAC = 'fa:16:3e:13:00:02';

/** A free TCP port on 127.0.0.1 (qemu binds it right after; a race only fails the start loudly). */
export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** qemu-img create -f qcow2 -b IMAGE -F qcow2 OVERLAY */
export function makeOverlay(image, overlay) {
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', resolve(image), '-F', 'qcow2', overlay], { stdio: ['ignore', 'pipe', 'pipe'] });
}

export function qemuArgs({ overlay, iso, consoleLog, port, memMiB, smp }) {
  return [
    '-name', 'amphora-image-test',
    '-machine', 'q35',
    '-accel', 'tcg,thread=multi',
    '-cpu', 'max',
    '-m', String(memMiB),
    '-smp', String(smp),
    '-display', 'none',
    '-monitor', 'none',
    '-serial', `file:${consoleLog}`,
    '-drive', `file=${overlay},if=virtio,format=qcow2,cache=unsafe`,
    '-drive', `file=${iso},if=virtio,format=raw,readonly=on`,
    '-netdev', `user,id=mgmt,hostfwd=tcp:127.0.0.1:${port}-:9443`,
    '-device', `virtio-net-pci,netdev=mgmt,mac=${MGMT_MAC}`,
    '-netdev', 'user,id=vip,restrict=on,net=10.13.0.0/24',
    '-device', `virtio-net-pci,netdev=vip,mac=${VIP_MAC}`,
    '-no-reboot',
  ];
}

/**
 * Starts qemu in its own process group (stop() ends the group). stdout/stderr go to qemuLog.
 * Answers { child, startedAt (performance.now()), stop(), exited (Promise of {code, signal}) }.
 */
export function startQemu(opts) {
  const out = openSync(opts.qemuLog, 'a');
  const child = spawn('qemu-system-x86_64', qemuArgs(opts), { detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  const startedAt = performance.now();
  live.add(child.pid);
  const exited = new Promise((ok) => child.on('exit', (code, signal) => ok({ code, signal })));
  exited.then(() => live.delete(child.pid));
  child.on('error', () => {}); // a spawn failure also ends in 'exit' or shows in qemuLog
  let done = false;
  exited.then(() => (done = true));
  const stop = async () => {
    if (done) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return;
    }
    const t = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 5000);
    await exited;
    clearTimeout(t);
  };
  return { child, startedAt, stop, exited, running: () => !done };
}

/** The console log's last lines (for a failure report). */
export function consoleTail(path, lines = 60) {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch (e) {
    return `(no console log: ${e.message})`;
  }
}
