/**
 * @module test/controller-vm/runner/lib/vms
 * The amphora VMs behind the API's amphorae: their directory (the compute driver's request.json,
 * the launcher's running/gone markers, the guest's logs) and the test's command channel into them
 * (vm/cvm-exec.sh runs <dir>/cmd/<n>.sh and writes <n>.out and <n>.rc).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CVM_DIR, sleep } from './context.mjs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
let seq = 0;

/** The VM of an amphora (from the API): {dir, req}. */
export function vmOf(amp) {
  if (!UUID.test(amp.compute_id ?? '')) throw new Error(`amphora ${amp.id} has no compute id`);
  const dir = join(CVM_DIR, 'vms', amp.compute_id);
  return { dir, req: JSON.parse(readFileSync(join(dir, 'request.json'), 'utf8')), amp };
}
/** The tenant VM (run.mjs asks the launcher for it): SCTP client and members. */
export function tenantVm() {
  const dir = join(CVM_DIR, 'extra', 'tenant');
  return { dir, req: JSON.parse(readFileSync(join(dir, 'request.json'), 'utf8')) };
}
export const isGone = (vm) => existsSync(join(vm.dir, 'gone'));
export const markerTime = (vm, name) => {
  try {
    return JSON.parse(readFileSync(join(vm.dir, name), 'utf8')).t * 1000;
  } catch {
    return null;
  }
};

/**
 * Seconds from the VM's boot to its agent listening, from the guest's journal (monotonic clock):
 * ours logs "amphora agent listening", the reference's gunicorn "Listening at". Null if not seen.
 */
export function agentListeningAfterBoot(vm) {
  try {
    const text = readFileSync(join(vm.dir, 'logs', 'journal.txt'), 'utf8');
    const line = text.split('\n').find((l) => l.includes('amphora agent listening') || l.includes('Listening at:'));
    const m = line?.match(/^\[\s*([\d.]+)\]/);
    return m ? Math.round(Number(m[1]) * 10) / 10 : null;
  } catch {
    return null;
  }
}

/** Runs a bash script in the VM; resolves {rc, out}; throws after `limitMs`. */
export async function vmExec(vm, script, limitMs = 60_000) {
  const n = `c${process.pid}-${++seq}`;
  const base = join(vm.dir, 'cmd', n);
  writeFileSync(`${base}.tmp`, script);
  renameSync(`${base}.tmp`, `${base}.sh`);
  const end = Date.now() + limitMs;
  while (!existsSync(`${base}.rc`)) {
    if (Date.now() > end) throw new Error(`VM ${vm.req.slot}: no answer to "${script.slice(0, 60)}" within ${limitMs} ms`);
    await sleep(100);
  }
  return { rc: Number(readFileSync(`${base}.rc`, 'utf8')), out: readFileSync(`${base}.out`, 'utf8') };
}

/** `ipvsadm -Ln` in the amphora's namespace: the real servers ("ip:port" -> weight) per virtual server. */
export async function ipvsOf(vm) {
  const r = await vmExec(vm, 'ip netns exec amphora-haproxy ipvsadm -Ln');
  const services = {};
  let cur = null;
  for (const line of r.out.split('\n')) {
    const vs = line.match(/^(UDP|TCP|SCTP)\s+(\S+)\s+(\S+)/);
    if (vs) services[(cur = `${vs[1]} ${vs[2]}`)] = { scheduler: vs[3], reals: {} };
    const rs = line.match(/^\s+->\s+(\d+\.\d+\.\d+\.\d+:\d+)\s+\S+\s+(\d+)/);
    if (rs && cur) services[cur].reals[rs[1]] = Number(rs[2]);
  }
  return { services, text: r.out };
}

/** Whether the VIP is on an interface of the amphora's namespace (the VRRP MASTER holds it). */
export async function holdsVip(vm, vip) {
  const r = await vmExec(vm, 'ip -n amphora-haproxy -4 -o addr show');
  return r.out.split('\n').some((l) => l.includes(` ${vip}/`));
}
