/**
 * @module test/support/init-system-cases
 * The behaviour every InitSystem implementation shares, in the manner of Hono's
 * `router/common.case.test.ts`: `initSystemCases(target)` defines the cases and each runner calls
 * it once per implementation. src/system/init/init-system.case.test.ts runs it without root
 * (FakeInit, and the unit files of the file-based adapters); test/integration/init-system.case.test.ts
 * runs it for every adapter against its real init system with real daemons.
 *
 * The definitions live here rather than in a `*.test.ts`: a test file imported by another
 * registers its own suites in that file too, and src/ builds every non-test file into dist.
 * A case judges the daemon from outside the adapter (pid file, /proc, the daemon's own log),
 * never by the commands the adapter ran; it must not know which adapter it is looking at.
 */
import { existsSync } from 'node:fs';
import { open, readFile, stat, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonUnitSpec, InitSystem, NetnsUnitSpec, ReloadSignal } from '../../src/system/init/types.js';

/** keepalived and haproxy specs, as services/daemon-specs.ts makes them. */
export type DaemonKind = 'keepalived' | 'haproxy';
export const DAEMON_KINDS: readonly DaemonKind[] = ['keepalived', 'haproxy'];

export interface ProcessFacts {
  /** Exists and is not a zombie. */
  readonly alive: boolean;
  readonly comm: string | undefined;
  /** The inode of its network namespace; undefined where processes are not real. */
  readonly netnsInode: number | undefined;
}

/** How a case watches the daemons an implementation runs. */
export interface ProcessWatch {
  /** Resolves once a started daemon has logged (past `since`) that it is up and takes signals. */
  ready(spec: DaemonUnitSpec, since: number): Promise<void>;
  facts(pid: number): Promise<ProcessFacts>;
  /** The namespace every daemon must run in; undefined where processes are not real. */
  readonly namespaceInode: number | undefined;
  /** Live processes (main and children) still running the daemon's command line. */
  leftovers?(spec: DaemonUnitSpec): Promise<number[]>;
  /** A spec of this kind whose command is a probe that logs `got SIG<name>` for HUP and USR2, and `probe ready`. */
  probe?(kind: DaemonKind): Promise<DaemonUnitSpec>;
}

export interface InitHarness {
  readonly init: InitSystem;
  readonly netns: NetnsUnitSpec;
  /** A new daemon of this kind (unique unit), with a config it runs on. */
  daemon(kind: DaemonKind): Promise<DaemonUnitSpec>;
  /** The mode of the unit files; undefined when the implementation writes none. */
  readonly unitMode: number | undefined;
  /** How often the adapter has told its init system to re-read units; absent when it has no such step. */
  managerReloads?(): number;
  /** Whether the init system itself runs on the units as they are on disk (systemd: NeedDaemonReload=no). */
  unitsCurrent?(spec: DaemonUnitSpec): Promise<boolean>;
  /** undefined: this run covers the unit files only. */
  readonly processes: ProcessWatch | undefined;
  teardown(): Promise<void>;
}

export interface InitCaseTarget {
  readonly name: string;
  /** Why this implementation cannot run on this machine (printed), or undefined. */
  readonly skip: string | undefined;
  /** Writes unit files (systemd, sysvinit, upstart); false for `direct` and FakeInit. */
  readonly unitFiles: boolean;
  /** Starts, reloads and stops daemons (false: only the unit-file cases run). */
  readonly lifecycle: boolean;
  /** Its daemons are real processes, so the signal probe can tell which signal a reload sent. */
  readonly signalProbe: boolean;
  setup(): Promise<InitHarness>;
}

const signalOf = (spec: DaemonUnitSpec): ReloadSignal => spec.reload?.signal ?? 'HUP';
/** keepalived's acknowledgement when a spec names none (DaemonUnitSpec.reload). */
const acknowledgement = (spec: DaemonUnitSpec): RegExp => spec.reload?.acknowledged ?? /Reloading/;

/** Polls `test` until it gives a value; on timeout the error says what it waited for and shows `log`'s tail. */
export async function eventually<T>(what: string, test: () => Promise<T | false | undefined>, log?: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await test();
    if (value !== false && value !== undefined) return value;
    if (Date.now() > deadline) {
      const tail = log === undefined ? '' : `\n--- ${log}:\n${(await logSince(log, 0)).split('\n').slice(-15).join('\n')}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${tail}`);
    }
    await sleep(25);
  }
}

export async function logSize(file: string): Promise<number> {
  return existsSync(file) ? (await stat(file)).size : 0;
}

/** What a log gained past byte `offset`. */
export async function logSince(file: string, offset: number): Promise<string> {
  if (!existsSync(file)) return '';
  const handle = await open(file, 'r');
  try {
    return (await handle.readFile()).subarray(offset).toString('utf8');
  } finally {
    await handle.close();
  }
}

export async function readPid(file: string): Promise<number | undefined> {
  if (!existsSync(file)) return undefined;
  const pid = Number((await readFile(file, 'utf8')).trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

const fileId = async (f: string) => {
  const s = await stat(f);
  return `${s.ino}:${s.mtimeMs}`;
};

export function initSystemCases(target: InitCaseTarget): void {
  if (target.skip !== undefined) process.stderr.write(`SKIP InitSystem cases, ${target.name}: ${target.skip}\n`);
  const title = target.skip === undefined ? target.name : `${target.name} (skipped: ${target.skip})`;

  describe.skipIf(target.skip !== undefined)(title, () => {
    let h: InitHarness;
    beforeAll(async () => {
      h = await target.setup();
    });
    afterAll(async () => {
      await h?.teardown();
    });

    if (target.unitFiles) describe('unit files', () => {
      it.each(DAEMON_KINDS)('%s: install writes both units, then rewrites them only when their content would change', async (kind) => {
        const spec = await h.daemon(kind);
        const files = h.init.unitFiles(spec, h.netns);
        expect(files).toHaveLength(2);
        const reloads = () => h.managerReloads?.();
        const r0 = reloads();
        expect(await h.init.install(spec, h.netns)).toBe(true);
        for (const f of files) {
          expect(await readFile(f, 'utf8')).toContain('Generated by amphora-agent');
          if (h.unitMode !== undefined) expect((await stat(f)).mode & 0o777).toBe(h.unitMode);
        }
        const r1 = reloads();
        if (r0 !== undefined) expect(r1, 'the init system re-reads units after a change').toBe(r0 + 1);
        const ids = await Promise.all(files.map(fileId));
        expect(await h.init.install(spec, h.netns)).toBe(false);
        expect(await Promise.all(files.map(fileId)), 'unchanged units are not rewritten').toEqual(ids);
        expect(reloads(), 'no re-read when nothing changed').toBe(r1);
        // a unit from an older agent (another template or path) is replaced
        await writeFile(files[1]!, 'stale unit from an older agent\n');
        expect(await h.init.install(spec, h.netns)).toBe(true);
        expect(await readFile(files[1]!, 'utf8')).toContain(spec.logFile);
        if (r1 !== undefined) expect(reloads()).toBe(r1 + 1);
        if (h.unitsCurrent) expect(await h.unitsCurrent(spec)).toBe(true);
      });

      it('uninstall removes the daemon unit, keeps the shared namespace unit, and may be repeated', async () => {
        const spec = await h.daemon('keepalived');
        const [netnsUnit, daemonUnit] = h.init.unitFiles(spec, h.netns);
        await h.init.install(spec, h.netns);
        await h.init.uninstall(spec);
        await h.init.uninstall(spec);
        expect(existsSync(daemonUnit!)).toBe(false);
        expect(existsSync(netnsUnit!)).toBe(true);
      });
    });

    if (!target.unitFiles) describe('no unit files', () => {
      it('names no unit files; install and a repeated uninstall are harmless', async () => {
        const spec = await h.daemon('keepalived');
        expect(h.init.unitFiles(spec, h.netns)).toEqual([]);
        await h.init.install(spec, h.netns);
        await h.init.uninstall(spec);
        await h.init.uninstall(spec);
      });
    });

    if (target.lifecycle) describe('lifecycle', () => {
      const created: DaemonUnitSpec[] = [];
      const watch = () => {
        if (h.processes === undefined) throw new Error(`${target.name} has lifecycle cases but no ProcessWatch`);
        return h.processes;
      };
      const installed = async (spec: DaemonUnitSpec) => {
        created.push(spec);
        await h.init.install(spec, h.netns);
        return spec;
      };
      /** start, then wait until active and ready; returns the main pid. */
      const startReady = async (spec: DaemonUnitSpec) => {
        const since = await logSize(spec.logFile);
        await h.init.start(spec);
        const pid = await eventually(`${spec.unit} to be active`, async () => (await h.init.isActive(spec)) && readPid(spec.pidFile), spec.logFile);
        await watch().ready(spec, since);
        return pid;
      };
      afterEach(async () => {
        for (const spec of created.splice(0)) {
          await h.init.stop(spec);
          await h.init.uninstall(spec);
        }
      });

      describe.each(DAEMON_KINDS)('%s', (kind) => {
        it('start: the daemon becomes active, as a live process of its own in the namespace', async () => {
          const spec = await installed(await h.daemon(kind));
          expect(await h.init.isActive(spec)).toBe(false);
          const pid = await startReady(spec);
          const p = await watch().facts(pid);
          expect(p.alive).toBe(true);
          expect(p.comm).toBe(kind);
          if (watch().namespaceInode !== undefined) expect(p.netnsInode).toBe(watch().namespaceInode);
          expect(pid).not.toBe(process.pid);
        });

        it('start on a running daemon leaves the same process running', async () => {
          const spec = await installed(await h.daemon(kind));
          const pid = await startReady(spec);
          await h.init.start(spec);
          expect(await h.init.isActive(spec)).toBe(true);
          expect(await readPid(spec.pidFile)).toBe(pid);
          expect((await watch().facts(pid)).alive).toBe(true);
        });

        it('reload: the daemon acknowledges it in its log, and the main process stays the same', async () => {
          const spec = await installed(await h.daemon(kind));
          const pid = await startReady(spec);
          const since = await logSize(spec.logFile);
          await h.init.reload(spec);
          const ack = acknowledgement(spec);
          await eventually(`${spec.unit} to log ${ack}`, async () => ack.test(await logSince(spec.logFile, since)), spec.logFile);
          expect(await readPid(spec.pidFile)).toBe(pid);
          expect((await watch().facts(pid)).alive).toBe(true);
          expect(await h.init.isActive(spec)).toBe(true);
        });

        it('stop: no longer active and its processes are gone; stopping again is fine', async () => {
          const spec = await installed(await h.daemon(kind));
          const pid = await startReady(spec);
          await h.init.stop(spec);
          expect(await h.init.isActive(spec)).toBe(false);
          expect((await watch().facts(pid)).alive).toBe(false);
          if (watch().leftovers) expect(await watch().leftovers!(spec)).toEqual([]);
          await h.init.stop(spec);
          expect(await h.init.isActive(spec)).toBe(false);
        });

        it('refuses to reload a daemon that is not running, and does not start it', async () => {
          const spec = await installed(await h.daemon(kind));
          await expect(h.init.reload(spec)).rejects.toThrow();
          await startReady(spec);
          await h.init.stop(spec);
          await expect(h.init.reload(spec)).rejects.toThrow();
          expect(await h.init.isActive(spec)).toBe(false);
        });
      });

      if (target.signalProbe) describe('reload signal', () => {
        it.each(DAEMON_KINDS)('%s: reload sends the spec’s own signal, once, to the main process', async (kind) => {
          const probe = watch().probe;
          if (probe === undefined) throw new Error(`${target.name} has no signal probe`);
          const spec = await installed(await probe(kind));
          const pid = await startReady(spec);
          const since = await logSize(spec.logFile);
          await h.init.reload(spec);
          const wanted = signalOf(spec);
          await eventually(`the probe to log got SIG${wanted}`, async () => (await logSince(spec.logFile, since)).includes(`got SIG${wanted}`), spec.logFile);
          // a moment for a second or wrong signal to show up
          await sleep(300);
          expect((await logSince(spec.logFile, since)).match(/got SIG\w+/g)).toEqual([`got SIG${wanted}`]);
          expect(await readPid(spec.pidFile)).toBe(pid);
          expect((await watch().facts(pid)).alive).toBe(true);
        });
      });
    });
  });
}
