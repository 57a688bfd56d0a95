/**
 * @module test/fakes/fake-init
 * An InitSystem for API and service tests. It runs nothing: a "running" daemon is a pid file
 * whose pid has entries `<proc_dir>/<pid>/comm` (the daemon's command name: keepalived, haproxy)
 * and `cmdline` (its argv inside the namespace, NUL-separated) in the test's temporary root,
 * which is exactly what the agent's liveness logic reads. Tests can
 * crash a daemon (the proc entry goes, the pid file stays) or make the next start die at once,
 * after writing its pid files (`dieOnNextStart`, as any init system shows it) or before, with an
 * exit status reported through the optional `exited` capability (`exitOnNextStart`, as the
 * direct adapter reports the process it spawned). `reportsExits: false` leaves that capability
 * out, as the systemd, sysvinit and upstart adapters do.
 * It passes the lifecycle cases of test/support/init-system-cases.ts like the real adapters: a
 * start of a running daemon keeps it, reload keeps the pid and refuses a stopped daemon.
 */
import { appendFileSync, mkdirSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CommandFailed } from '../../src/model/errors.js';
import type { DaemonExit, DaemonUnitSpec, InitKind, InitSystem, NetnsUnitSpec, ReloadSignal } from '../../src/system/init/types.js';

/** What each kind of daemon logs, by its reload signal (keepalived: HUP, haproxy: USR2). */
const LINES: Record<ReloadSignal, { reloaded: string; ready: string }> = {
  HUP: { reloaded: 'Reloading ...', ready: 'Starting VRRP child process' },
  USR2: { reloaded: '[NOTICE]   (1) : Reloading HAProxy\n[NOTICE]   (1) : Loading success.', ready: '[NOTICE]   (1) : Loading success.' },
};

const signalOf = (daemon: DaemonUnitSpec): ReloadSignal => daemon.reload?.signal ?? 'HUP';

/** The daemon's own argv: past any `ip netns exec NS`, which execs it in place. */
function innerArgv(daemon: DaemonUnitSpec): readonly string[] {
  const [cmd, sub, verb] = daemon.argv;
  return cmd !== undefined && basename(cmd) === 'ip' && sub === 'netns' && verb === 'exec' ? daemon.argv.slice(4) : daemon.argv;
}

/** What /proc/<pid>/comm says for the daemon: its command's name. */
function commOf(daemon: DaemonUnitSpec): string {
  return basename(innerArgv(daemon)[0] ?? 'unknown').slice(0, 15);
}

export class FakeInit implements InitSystem {
  readonly kind: InitKind = 'direct';
  readonly calls: string[] = [];
  readonly installed = new Map<string, DaemonUnitSpec>();
  /** The next start writes its pid files but the process is gone at once. */
  dieOnNextStart = false;
  /** The next start's process exits with this before it writes any pid file (haproxy: "Cannot raise FD limit"). */
  exitOnNextStart: DaemonExit | undefined;
  failNextInstall = false;
  private nextPid = 5000;
  /** By unit: the exit of the latest start's process, once it exited. */
  private readonly exits = new Map<string, DaemonExit>();
  readonly exited?: (daemon: DaemonUnitSpec) => DaemonExit | undefined;

  constructor(
    private readonly procDir: string,
    options: { readonly reportsExits?: boolean } = {},
  ) {
    if (options.reportsExits !== false) this.exited = (daemon) => this.exits.get(daemon.unit);
  }

  private pidAlive(file: string): boolean {
    if (!existsSync(file)) return false;
    return existsSync(join(this.procDir, readFileSync(file, 'utf8').trim()));
  }

  private spawn(file: string, alive: boolean, daemon: DaemonUnitSpec): void {
    const pid = this.nextPid++;
    if (alive) {
      mkdirSync(join(this.procDir, String(pid)), { recursive: true });
      writeFileSync(join(this.procDir, String(pid), 'comm'), `${commOf(daemon)}\n`);
      writeFileSync(join(this.procDir, String(pid), 'cmdline'), innerArgv(daemon).map((a) => `${a}\0`).join(''));
    }
    writeFileSync(file, `${pid}\n`);
  }

  unitFiles(): string[] {
    return [];
  }
  async install(daemon: DaemonUnitSpec, netns: NetnsUnitSpec): Promise<boolean> {
    this.calls.push(`install ${daemon.unit} ${netns.unit}`);
    if (this.failNextInstall) {
      this.failNextInstall = false;
      throw new Error('install failed (scripted)');
    }
    this.installed.set(daemon.unit, daemon);
    return true;
  }
  async uninstall(daemon: DaemonUnitSpec): Promise<void> {
    this.calls.push(`uninstall ${daemon.unit}`);
    this.installed.delete(daemon.unit);
  }
  async enable(daemon: DaemonUnitSpec): Promise<void> {
    this.calls.push(`enable ${daemon.unit}`);
  }
  async disable(daemon: DaemonUnitSpec): Promise<void> {
    this.calls.push(`disable ${daemon.unit}`);
  }
  async start(daemon: DaemonUnitSpec): Promise<void> {
    this.calls.push(`start ${daemon.unit}`);
    // like every init system: a running daemon is left alone
    this.exits.delete(daemon.unit);
    if (this.pidAlive(daemon.pidFile)) return;
    const exit = this.exitOnNextStart;
    this.exitOnNextStart = undefined;
    if (exit !== undefined) {
      appendFileSync(daemon.logFile, '[ALERT]    (1) : Cannot raise FD limit to 200029, limit is 20000.\n');
      this.exits.set(daemon.unit, exit);
      return;
    }
    const alive = !this.dieOnNextStart;
    this.dieOnNextStart = false;
    for (const f of [daemon.pidFile, ...daemon.childPidFiles]) this.spawn(f, alive, daemon);
    if (!alive) writeFileSync(daemon.logFile, 'IPVS: Can\'t initialize ipvs: Protocol not available\nStopped Keepalived\n');
    else if (daemon.ready) appendFileSync(daemon.logFile, `${LINES[signalOf(daemon)].ready}\n`);
  }
  async stop(daemon: DaemonUnitSpec): Promise<void> {
    this.calls.push(`stop ${daemon.unit}`);
    this.exits.delete(daemon.unit);
    for (const f of [daemon.pidFile, ...daemon.childPidFiles]) {
      if (existsSync(f)) rmSync(join(this.procDir, readFileSync(f, 'utf8').trim()), { recursive: true, force: true });
      rmSync(f, { force: true });
    }
  }
  /**
   * keepalived logs "Reloading ..." when it acts on SIGHUP, haproxy's master "Loading success."
   * after SIGUSR2; `ignoreNextReload` simulates a daemon that does not. A daemon that is not
   * running cannot be signalled: that is an error, as with every real adapter.
   */
  ignoreNextReload = false;
  async reload(daemon: DaemonUnitSpec): Promise<void> {
    this.calls.push(`reload ${daemon.unit}`);
    if (!this.pidAlive(daemon.pidFile)) {
      const why = `${daemon.unit} is not running`;
      throw new CommandFailed(['reload', daemon.unit], undefined, why, why);
    }
    if (this.ignoreNextReload) {
      this.ignoreNextReload = false;
      return;
    }
    appendFileSync(daemon.logFile, `${LINES[signalOf(daemon)].reloaded}\n`);
  }
  async isActive(daemon: DaemonUnitSpec): Promise<boolean> {
    return this.pidAlive(daemon.pidFile);
  }

  /** kill -9: the process is gone, its pid files stay. */
  crash(daemon: DaemonUnitSpec): void {
    rmSync(join(this.procDir, readFileSync(daemon.pidFile, 'utf8').trim()), { recursive: true, force: true });
  }
}
