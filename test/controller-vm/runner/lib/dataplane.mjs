/**
 * @module test/controller-vm/runner/lib/dataplane
 * The tenant's side of the VIP network, in the <prefix>-net namespace: member servers (UDP and TCP
 * echo on 198.51.100.21-24, net/member.py), the UDP traffic generator (test/e2e/guest/traffic.mjs,
 * the VM tier's own) and one-shot TCP clients. A reply names the member and the amphora that
 * forwarded the request ("m2/198.51.100.12").
 */
import { execFile, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { LOGS, NET_NS, NODE, REPO, TIER, log, sleep } from './context.mjs';

const inNet = (file, args) => ['netns', 'exec', NET_NS, file, ...args];

/** A member server; start() resolves once it listens. */
export class Member {
  constructor(name, address, port) {
    Object.assign(this, { name, address, port, proc: null });
  }
  start() {
    return new Promise((resolve, reject) => {
      this.proc = spawn('ip', inNet('/usr/bin/python3', [join(TIER, 'net', 'member.py'), this.name, this.address, String(this.port)]), { stdio: ['ignore', 'pipe', 'pipe'] });
      this.proc.stderr.on('data', (d) => appendFileSync(join(LOGS, 'members.log'), `${this.name}: ${d}`));
      const t = setTimeout(() => reject(new Error(`member ${this.name} did not start`)), 20_000);
      createInterface({ input: this.proc.stdout }).once('line', () => (clearTimeout(t), resolve()));
      this.proc.once('exit', (c) => (clearTimeout(t), reject(new Error(`member ${this.name} exited ${c}`))));
    });
  }
  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    const gone = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGKILL');
    await gone;
  }
}

/** A long-lived child spoken to in JSON lines, one answer per request, in order. */
class LineChild {
  constructor(name, file, args) {
    this.name = name;
    this.proc = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.waiters = [];
    createInterface({ input: this.proc.stdout }).on('line', (line) => this.waiters.shift()?.resolve(JSON.parse(line)));
    this.proc.stderr.on('data', (d) => appendFileSync(join(LOGS, `${name}.log`), d));
    this.proc.on('exit', (c, s) => {
      for (const w of this.waiters.splice(0)) w.reject(new Error(`${name} exited (${s ?? c})`));
    });
  }
  request(obj, timeoutMs = 120_000) {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.name}: no answer within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ resolve: (v) => (clearTimeout(t), resolve(v)), reject: (e) => (clearTimeout(t), reject(e)) });
      this.proc.stdin.write(`${JSON.stringify(obj)}\n`);
    });
  }
  stop() {
    this.proc.kill('SIGTERM');
  }
}

/** The UDP traffic generator (see test/e2e/guest/traffic.mjs for its commands). */
export function startTraffic() {
  return new LineChild('traffic', 'ip', inNet(NODE, [join(REPO, 'test', 'e2e', 'guest', 'traffic.mjs')]));
}

/** n TCP connections to vip:port, one message each: {sent, replies, lost, perBackend, failures, slowest_s}. */
export async function tcpBurst(vip, port, n) {
  const { stdout } = await promisify(execFile)('ip', inNet('/usr/bin/python3', [join(TIER, 'net', 'tcp-client.py'), vip, String(port), String(n)]), { timeout: (n * 15 + 30) * 1000 });
  return JSON.parse(stdout);
}

/** Splits perBackend ("m1/198.51.100.11" -> n) by member and by amphora. */
export function split(perBackend) {
  const members = {};
  const amphorae = {};
  for (const [k, n] of Object.entries(perBackend ?? {})) {
    const [m, a] = k.split('/');
    members[m] = (members[m] ?? 0) + n;
    amphorae[a] = (amphorae[a] ?? 0) + n;
  }
  return { members, amphorae };
}

/** Retries a UDP burst until every datagram comes back (a reload just applied may still settle). */
export async function burstUntilClean(traffic, req, tries = 5) {
  let r;
  for (let i = 0; i < tries; i++) {
    r = await traffic.request({ cmd: 'burst', ...req });
    if (r.lost === 0) return r;
    log(`burst to ${req.vip}:${req.port}: ${r.lost} of ${r.sent} lost, again`);
    await sleep(2000);
  }
  return r;
}
