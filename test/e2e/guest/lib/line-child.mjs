/**
 * @module test/e2e/guest/lib/line-child
 * A long-lived child process spoken to in JSON lines, one answer per request and in order:
 * the controller (guest/controller.py) and the traffic generator (guest/traffic.mjs).
 */
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { log } from './context.mjs';

/** A child process that answers one JSON line per JSON line sent, in order. */
export class LineChild {
  constructor(name, file, args, stderrLog) {
    this.name = name;
    this.proc = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.waiters = [];
    this.exited = false;
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      const w = this.waiters.shift();
      if (w) w.resolve(line);
      else log(`${name}: unexpected output ${line.slice(0, 200)}`);
    });
    this.proc.stderr.on('data', (d) => appendFileSync(stderrLog, d));
    this.proc.on('exit', (code, sig) => {
      this.exited = true;
      for (const w of this.waiters.splice(0)) w.reject(new Error(`${name} exited (${sig ?? code})`));
    });
  }
  next(timeoutMs) {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.name}: no answer within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ resolve: (l) => (clearTimeout(t), resolve(JSON.parse(l))), reject: (e) => (clearTimeout(t), reject(e)) });
    });
  }
  // a bound against a hang, not a limit on speed: on a host busy with other VMs (load 10-12) one
  // controller call (upload + reload of a new listener on a second agent) took more than 120 s
  async request(obj, timeoutMs = 300_000) {
    if (this.exited) throw new Error(`${this.name} is not running`);
    const p = this.next(timeoutMs);
    this.proc.stdin.write(`${JSON.stringify(obj)}\n`);
    return p;
  }
  stop() {
    if (!this.exited) this.proc.kill('SIGTERM');
  }
}
