/**
 * @module test/support/spawned
 * `Spawned`: a child process with its output collected as it comes, waited on or stopped by the
 * caller. It never starts a process itself (see agent-process.ts).
 */
import type { ChildProcess } from 'node:child_process';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A child process with its output collected as it comes. */
export class Spawned {
  stdout = '';
  stderr = '';
  exit: Exit | undefined;
  readonly exited: Promise<Exit>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolveExit) => {
      child.once('close', (code, signal) => {
        this.exit = { code, signal };
        resolveExit(this.exit);
      });
    });
  }

  get running(): boolean {
    return this.exit === undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  describe(): string {
    return `pid ${this.child.pid}, exit ${JSON.stringify(this.exit)}\n--- stdout\n${this.stdout}\n--- stderr\n${this.stderr}`;
  }

  /** Waits until `test` holds, failing early (with the output) if the process ends first. */
  async waitFor<T>(what: string, test: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await test();
      if (value !== undefined && value !== false) return value;
      if (!this.running) throw new Error(`process ended before ${what}: ${this.describe()}`);
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${this.describe()}`);
      await sleep(50);
    }
  }

  /** SIGTERM (or `signal`), then the exit; SIGKILL after `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000): Promise<Exit> {
    if (this.running) this.child.kill(signal);
    const timer = setTimeout(() => this.running && this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
