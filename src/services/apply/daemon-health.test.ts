/**
 * The reload acknowledgement and the ready line of services/daemon-health, on log files and
 * fake /proc entries under a temporary root: each daemon's own line (keepalived "Reloading",
 * haproxy "Loading success." / "Loading failure!"), only past the mark, and found behind more
 * than one read window of other output. A daemon whose process the init adapter saw exit
 * (`exited`, the direct adapter's capability) ends a wait at once, with its exit status.
 */
import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import type { Uuid } from '../../model/uuid.js';
import { createPaths } from '../../system/paths.js';
import { logMark, waitHealthy, waitReloaded } from './daemon-health.js';
import { DaemonSpecs } from '../daemon-specs.js';
import { fakeDaemonProc } from '../../../test/support/daemon-stand-in.js';

const LB = 'ffffffff-0000-0000-0000-0000000000b1' as Uuid;
const LISTENER = 'ffffffff-0000-0000-0000-0000000000a1' as Uuid;

function setup() {
  const root = mkdtempSync(join(tmpdir(), 'health-'));
  const config = parseConfig([{ path: '/x.conf', text: `[haproxy_amphora]\nbase_path = ${root}/lib\n[amphora_agent]\nproc_dir = ${root}/proc\n` }]).config;
  const paths = createPaths(config);
  const specs = new DaemonSpecs(() => config, paths);
  const haproxy = specs.haproxy(LB);
  const keepalived = specs.lvs(LISTENER);
  mkdirSync(paths.haproxyDir(LB), { recursive: true });
  mkdirSync(paths.lvsDir, { recursive: true });
  /** A live process as the agent sees it: a pid file whose pid's /proc entry is the daemon's (keepalived's children share its identity). */
  const alive = (pidFile: string, pid: number) => {
    fakeDaemonProc(join(root, 'proc'), pid, pidFile === haproxy.pidFile ? haproxy.identity : keepalived.identity);
    writeFileSync(pidFile, `${pid}\n`);
  };
  return { paths, haproxy, keepalived, alive };
}

const later = (ms: number, work: () => void) => setTimeout(work, ms);
const noise = (bytes: number, line = 'aaaaaaaa 203.0.113.5:40000 [01/Jan/2026:00:00:00.000] fe be/srv 0/0/1 200 --\n') => line.repeat(Math.ceil(bytes / line.length));

describe('waitReloaded', () => {
  it("takes haproxy's \"Loading success.\" after the mark, behind more than a read window of traffic log", async () => {
    const t = setup();
    t.alive(t.haproxy.pidFile, 4242);
    appendFileSync(t.haproxy.logFile, '[NOTICE]   (4242) : Loading success.\n');
    const since = await logMark(t.haproxy.logFile);
    later(50, () => appendFileSync(t.haproxy.logFile, `${noise(200 * 1024)}[NOTICE]   (4242) : Reloading HAProxy\n[NOTICE]   (4242) : Loading success.\n`));
    await expect(waitReloaded(t.paths, { daemon: t.haproxy, children: [], since, timeoutMs: 3000 })).resolves.toBeUndefined();
  });

  it('keeps its place in a log of multi-byte characters', async () => {
    const t = setup();
    t.alive(t.haproxy.pidFile, 4243);
    const since = await logMark(t.haproxy.logFile);
    appendFileSync(t.haproxy.logFile, `${noise(150 * 1024, 'requête reçue — ok\n')}[NOTICE]   (4243) : Loading success.\n`);
    await expect(waitReloaded(t.paths, { daemon: t.haproxy, children: [], since, timeoutMs: 1000 })).resolves.toBeUndefined();
  });

  it('fails at once when haproxy logs "Loading failure!" (its old workers keep the old config)', async () => {
    const t = setup();
    t.alive(t.haproxy.pidFile, 4244);
    const since = await logMark(t.haproxy.logFile);
    appendFileSync(t.haproxy.logFile, "[ALERT]    (4244) : Binding [x.cfg:20] for frontend f: cannot bind socket\n[WARNING]  (4244) : Loading failure!\n");
    const started = Date.now();
    const err = await waitReloaded(t.paths, { daemon: t.haproxy, children: [], since, timeoutMs: 5000 }).catch((e: unknown) => e as Error & { details?: string });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(err?.message).toBe(`haproxy-${LB} refused the reload`);
    expect(err?.details).toMatch(/cannot bind socket/);
  });

  it('does not take a line written before the mark, nor keepalived\'s line for haproxy', async () => {
    const t = setup();
    t.alive(t.haproxy.pidFile, 4245);
    appendFileSync(t.haproxy.logFile, '[NOTICE]   (4245) : Loading success.\n');
    const since = await logMark(t.haproxy.logFile);
    appendFileSync(t.haproxy.logFile, 'Reloading ...\n');
    await expect(waitReloaded(t.paths, { daemon: t.haproxy, children: [], since, timeoutMs: 200 })).rejects.toThrow(/did not acknowledge the reload/);
  });

  it('takes keepalived\'s "Reloading" for a keepalived, and checks its children are alive', async () => {
    const t = setup();
    t.alive(t.keepalived.pidFile, 4246);
    const since = await logMark(t.keepalived.logFile);
    appendFileSync(t.keepalived.logFile, 'Reloading ...\n');
    await expect(waitReloaded(t.paths, { daemon: t.keepalived, children: [], since, timeoutMs: 1000 })).resolves.toBeUndefined();
    await expect(waitReloaded(t.paths, { daemon: t.keepalived, children: [t.paths.lvsCheckPidFile(LISTENER)], since, timeoutMs: 200 })).rejects.toThrow(/is not running after reload/);
  });

  it('gives a child that starts after the reload line (the first virtual server) until the deadline', async () => {
    const t = setup();
    t.alive(t.keepalived.pidFile, 4247);
    const since = await logMark(t.keepalived.logFile);
    appendFileSync(t.keepalived.logFile, 'Reloading ...\n');
    const check = t.paths.lvsCheckPidFile(LISTENER);
    const wait = waitReloaded(t.paths, { daemon: t.keepalived, children: [check], since, timeoutMs: 5000 });
    setTimeout(() => t.alive(check, 4248), 150);
    await expect(wait).resolves.toBeUndefined();
  });
});

describe('waitHealthy with a ready line', () => {
  it('waits for "Loading success." past the mark before it settles', async () => {
    const t = setup();
    appendFileSync(t.haproxy.logFile, '[NOTICE]   (1) : Loading success.\n');
    const since = await logMark(t.haproxy.logFile);
    t.alive(t.haproxy.pidFile, 4247);
    await expect(waitHealthy(t.paths, { daemon: t.haproxy, children: [], settleMs: 0, action: 'start', since, timeoutMs: 200 })).rejects.toThrow(/is not running after start/);
    later(50, () => appendFileSync(t.haproxy.logFile, '[NOTICE]   (4247) : New worker (4248) forked\n[NOTICE]   (4247) : Loading success.\n'));
    await expect(waitHealthy(t.paths, { daemon: t.haproxy, children: [], settleMs: 10, action: 'start', since, timeoutMs: 2000 })).resolves.toBeUndefined();
  });

  it('ends at once when the main process wrote its pid file and died, however long the timeout', async () => {
    const t = setup();
    // a pid file whose process has no /proc entry: keepalived started and exited (no IPVS, say)
    writeFileSync(t.keepalived.pidFile, '4251\n');
    appendFileSync(t.keepalived.logFile, "IPVS: Can't initialize ipvs: Protocol not available\n");
    const wait = waitHealthy(t.paths, { daemon: t.keepalived, children: [], settleMs: 0, action: 'start', timeoutMs: 600_000 });
    await expect(wait).rejects.toThrow(/is not running after start/);
    await expect(wait).rejects.toMatchObject({ details: expect.stringContaining("Can't initialize ipvs") });
  }, 10_000);

  it('keeps waiting while the pid file is empty (keepalived still writing it)', async () => {
    const t = setup();
    writeFileSync(t.keepalived.pidFile, '');
    later(100, () => t.alive(t.keepalived.pidFile, 4253));
    await expect(waitHealthy(t.paths, { daemon: t.keepalived, children: [], settleMs: 0, action: 'start', timeoutMs: 5000 })).resolves.toBeUndefined();
  });

  it('needs no line from keepalived', async () => {
    const t = setup();
    t.alive(t.keepalived.pidFile, 4249);
    await expect(waitHealthy(t.paths, { daemon: t.keepalived, children: [], settleMs: 0, action: 'start', timeoutMs: 500 })).resolves.toBeUndefined();
  });
});

describe('waits ended by the exit the init adapter reports', () => {
  const FD = '[ALERT]    (77) : Cannot raise FD limit to 200029, limit is 20000.\n';

  it('fails a start at once when the process exited before it wrote any pid file, with the exit code and the log tail', async () => {
    const t = setup();
    appendFileSync(t.haproxy.logFile, FD);
    // no pid file at all: only the exit tells that the daemon is dead (the timeout would outlast the test)
    const exited = () => ({ exitCode: 1, signal: null });
    const wait = waitHealthy(t.paths, { daemon: t.haproxy, children: [], settleMs: 0, action: 'start', since: 0, timeoutMs: 600_000, exited });
    await expect(wait).rejects.toMatchObject({
      status: 500,
      message: `haproxy-${LB} exited during start (exit code 1)`,
      exitCode: 1,
      details: expect.stringContaining('Cannot raise FD limit to 200029'),
    });
  }, 10_000);

  it('keeps waiting while the adapter reports no exit, and fails at once when the process is killed later', async () => {
    const t = setup();
    let exit: { exitCode: number | null; signal: string | null } | undefined;
    const wait = waitHealthy(t.paths, { daemon: t.keepalived, children: [], settleMs: 0, action: 'start', timeoutMs: 600_000, exited: () => exit });
    let settled = false;
    void wait.catch(() => undefined).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(settled).toBe(false);
    exit = { exitCode: null, signal: 'SIGKILL' };
    await expect(wait).rejects.toMatchObject({ message: `octavia-keepalivedlvs-${LISTENER} exited during start (signal SIGKILL)`, exitCode: undefined });
  }, 10_000);

  it('fails a start whose process exits during the settle time', async () => {
    const t = setup();
    t.alive(t.keepalived.pidFile, 4261);
    let exit: { exitCode: number; signal: null } | undefined;
    later(20, () => (exit = { exitCode: 2, signal: null }));
    const wait = waitHealthy(t.paths, { daemon: t.keepalived, children: [], settleMs: 200, action: 'start', timeoutMs: 5000, exited: () => exit });
    await expect(wait).rejects.toThrow(`octavia-keepalivedlvs-${LISTENER} exited during start (exit code 2)`);
  });

  it('fails a reload at once when the process exits before it acknowledges, with the lines it wrote', async () => {
    const t = setup();
    t.alive(t.haproxy.pidFile, 4262);
    const since = await logMark(t.haproxy.logFile);
    appendFileSync(t.haproxy.logFile, '[NOTICE]   (4262) : Reloading HAProxy\n[ALERT]    (4262) : out of memory\n');
    const wait = waitReloaded(t.paths, { daemon: t.haproxy, children: [], since, timeoutMs: 600_000, exited: () => ({ exitCode: null, signal: 'SIGSEGV' }) });
    await expect(wait).rejects.toMatchObject({ message: `haproxy-${LB} exited during reload (signal SIGSEGV)`, details: expect.stringContaining('out of memory') });
  }, 10_000);

  it('takes an acknowledged reload when the adapter reports no exit', async () => {
    const t = setup();
    t.alive(t.keepalived.pidFile, 4263);
    const since = await logMark(t.keepalived.logFile);
    appendFileSync(t.keepalived.logFile, 'Reloading ...\n');
    await expect(waitReloaded(t.paths, { daemon: t.keepalived, children: [], since, timeoutMs: 1000, exited: () => undefined })).resolves.toBeUndefined();
  });
});
