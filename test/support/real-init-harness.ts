/**
 * @module test/support/real-init-harness
 * The InitHarness of test/support/init-system-cases.ts for a real adapter (createInitSystem with
 * the ExecaRunner): real keepalived (idling on a config with only `net_namespace`) and real
 * haproxy (one loopback frontend), from services/daemon-specs.ts, and a signal probe
 * under either spec, all inside a network namespace of the harness's own (`aat-init-<hex>`),
 * which it removes afterwards with every process in it. Nothing is routed through or bound in
 * the host's namespace.
 *
 * Unit files go under a temporary root, except where the init system only reads its own
 * directories (systemd: /run/systemd/system, upstart: /etc/init): there the unit names carry the
 * namespace's unique name as `unit_name_prefix`, and teardown stops and removes them.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseConfig } from '../../src/config/load.js';
import type { AgentConfig } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log.js';
import type { Uuid } from '../../src/model/uuid.js';
import { renderNetnsSetup } from '../../src/render/scripts.js';
import { unitRenderer } from '../../src/render/init-units.js';
import { DaemonSpecs } from '../../src/services/daemon-specs.js';
import { ExecaRunner, type ProcessRunner, type RunOptions, type RunResult, type SpawnOptions } from '../../src/system/exec.js';
import { createInitSystem } from '../../src/system/init/detect.js';
import type { DaemonUnitSpec, InitKind, InitSystem } from '../../src/system/init/types.js';
import { createPaths, type Paths } from '../../src/system/paths.js';
import { sh, show } from './commands.js';
import { eventually, logSince } from './daemon-files.js';
import type { DaemonKind, InitHarness, ProcessWatch } from './init-case-harness.js';
import { addNetns, deleteNetns, netnsInode, netnsPids, uniqueName } from './netns.js';
import { isRunning, procCmdline, procComm, processNetnsInode } from './processes.js';

/** Passes every call to the real runner and keeps the argv, so a case can count manager reloads. */
class RecordingRunner implements ProcessRunner {
  readonly calls: (readonly string[])[] = [];
  constructor(private readonly inner: ProcessRunner) {}
  run(cmd: string, args: readonly string[], options?: RunOptions): Promise<RunResult> {
    this.calls.push([cmd, ...args]);
    return this.inner.run(cmd, args, options);
  }
  spawnDetached(cmd: string, args: readonly string[], options: SpawnOptions): Promise<number> {
    this.calls.push([cmd, ...args]);
    return this.inner.spawnDetached(cmd, args, options);
  }
}

/**
 * Logs which reload signal it got; exits on SIGTERM. The daemons cannot tell which signal came:
 * haproxy 2.6's master reloads on SIGHUP as on SIGUSR2, so only the probe shows that an adapter
 * sends the spec's own signal.
 */
const PROBE = `#!/bin/sh
# usage: signal-probe.sh -f CONFIG -p PIDFILE (a daemon's -f and -p: what makes it the unit's daemon)
echo $$ > "$4"
trap 'echo "got SIGHUP"' HUP
trap 'echo "got SIGUSR2"' USR2
trap 'exit 0' TERM
echo "probe ready"
while :; do sleep 1 & wait $!; done
`;

/** The unit's systemd/upstart re-read command, counted by the unit-file cases. */
const MANAGER_RELOAD: Partial<Record<InitKind, string>> = { systemd: 'systemctl daemon-reload', upstart: 'initctl reload-configuration' };
const UNIT_MODE: Record<InitKind, number | undefined> = { systemd: 0o644, sysvinit: 0o755, upstart: 0o644, direct: undefined };

export async function realInitHarness(kind: InitKind): Promise<InitHarness> {
  const ns = uniqueName('init');
  const dir = await mkdtemp(join(tmpdir(), `init-${kind}-`));
  const removeAll = async () => {
    // every daemon of the harness runs in its namespace: deleteNetns ends them by pid
    await deleteNetns(ns);
    await rm(`/run/amphora-netns-${ns}.lock`, { force: true });
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await addNetns(ns);
    return await build(kind, ns, dir, removeAll);
  } catch (err) {
    await removeAll();
    throw err;
  }
}

/** What a harness of one adapter is made of, shared by the functions that build its parts. */
interface HarnessParts {
  readonly kind: InitKind;
  readonly ns: string;
  readonly dir: string;
  readonly config: AgentConfig;
  readonly paths: Paths;
  readonly specs: DaemonSpecs;
  readonly init: InitSystem;
  /** systemd and upstart: units go where the init system reads them, named with the namespace as prefix. */
  readonly shared: boolean;
  /** The line each daemon logs once it is up and handles signals. */
  readonly readyLine: Map<string, RegExp>;
  /** Every daemon made, for teardown. */
  readonly units: DaemonUnitSpec[];
}

async function build(kind: InitKind, ns: string, dir: string, removeAll: () => Promise<void>): Promise<InitHarness> {
  const shared = kind === 'systemd' || kind === 'upstart';
  const config = parseConfig([{ path: `${dir}/agent.conf`, text: agentConfigText(kind, ns, dir, shared) }]).config;
  const paths = createPaths(config);
  await mkdir(paths.lvsDir, { recursive: true });
  await writeFile(paths.netnsSetupScript, renderNetnsSetup({ namespace: ns, lockFile: paths.netnsLockFile, ipCmd: config.amphora_agent.ip_cmd, loadModules: false }), { mode: 0o755 });
  const runner = new RecordingRunner(new ExecaRunner(silentLogger(), 30_000));
  const init = createInitSystem(kind, config, runner, paths, silentLogger(), unitRenderer);
  const parts: HarnessParts = { kind, ns, dir, config, paths, specs: new DaemonSpecs(() => config, paths), init, shared, readyLine: new Map(), units: [] };
  const daemon = daemonMaker(parts);

  return {
    init,
    netns: parts.specs.netns(),
    daemon,
    unitMode: UNIT_MODE[kind],
    ...(MANAGER_RELOAD[kind] === undefined ? {} : { managerReloads: () => runner.calls.filter((c) => c.join(' ') === MANAGER_RELOAD[kind]).length }),
    ...(kind !== 'systemd' ? {} : { unitsCurrent: systemdUnitCurrent }),
    processes: await processWatch(parts, daemon),
    teardown: async () => {
      try {
        await stopUnits(parts);
      } finally {
        await removeAll();
      }
    },
  };
}

/** The agent config of a harness: everything under `dir`, except the unit directories an init system only reads itself. */
function agentConfigText(kind: InitKind, ns: string, dir: string, shared: boolean): string {
  return [
    '[haproxy_amphora]',
    `base_path = ${dir}/lib`,
    '[amphora_agent]',
    `network_namespace = ${ns}`,
    `unit_name_prefix = ${shared ? `${ns}-` : ''}`,
    `systemd_unit_dir = ${kind === 'systemd' ? '/run/systemd/system' : `${dir}/systemd`}`,
    `sysvinit_dir = ${dir}/init.d`,
    `upstart_dir = ${kind === 'upstart' ? '/etc/init' : `${dir}/init`}`,
    'proc_dir = /proc',
    '',
  ].join('\n');
}

/** New daemons of either kind, each with a config it runs on and the line it logs once ready. */
function daemonMaker({ ns, paths, specs, readyLine, units }: HarnessParts): (which: DaemonKind) => Promise<DaemonUnitSpec> {
  let port = 20_000;
  return async (which) => {
    const id = randomUUID() as Uuid;
    let spec: DaemonUnitSpec;
    if (which === 'keepalived') {
      spec = specs.lvs(id);
      // Octavia's render of a disabled listener: keepalived idles on it (this host has no IPVS)
      await writeFile(paths.lvsConfig(id), `net_namespace ${ns}\n`);
      readyLine.set(spec.unit, /keepalived has no configuration to run/);
    } else {
      spec = specs.haproxy(id);
      await mkdir(paths.haproxyDir(id), { recursive: true });
      const cfg = ['global', '  maxconn 64', 'defaults', '  mode tcp', '  timeout connect 1s', '  timeout client 5s', '  timeout server 5s'];
      // loopback of the test's namespace only
      cfg.push('frontend probe', `  bind 127.0.0.1:${port++}`, '');
      await writeFile(paths.haproxyConfig(id), cfg.join('\n'));
      readyLine.set(spec.unit, spec.ready ?? /Loading success\./);
    }
    units.push(spec);
    return spec;
  };
}

/** Whether systemd runs on the unit as it is on disk. */
async function systemdUnitCurrent(spec: DaemonUnitSpec): Promise<boolean> {
  const r = await sh('systemctl', ['show', '-p', 'NeedDaemonReload', '--value', `${spec.unit}.service`]);
  return r.stdout.trim() === 'no';
}

/** The daemons' processes, watched inside the harness's namespace, and the signal probe. */
async function processWatch({ ns, dir, config, readyLine }: HarnessParts, daemon: (which: DaemonKind) => Promise<DaemonUnitSpec>): Promise<ProcessWatch> {
  const probeScript = join(dir, 'signal-probe.sh');
  await writeFile(probeScript, PROBE, { mode: 0o755 });
  const settleMs = config.amphora_agent.process_settle_seconds * 1000;
  return {
    namespaceInode: await netnsInode(ns),
    ready: async (spec, since) => {
      const line = readyLine.get(spec.unit);
      if (line === undefined) throw new Error(`no ready line for ${spec.unit}`);
      await eventually(`${spec.unit} to log ${line}`, async () => line.test(await logSince(spec.logFile, since)), spec.logFile);
      // haproxy 2.6's master logs "Loading success." a few ms before it acts on SIGUSR2: a
      // reload sent at once is dropped, silently (seen here under `direct`). The agent waits
      // process_settle_seconds after every start (services/daemon-health), and so does this.
      await sleep(settleMs);
    },
    facts: async (pid) => ({ alive: await isRunning(pid), comm: await procComm(pid), netnsInode: await processNetnsInode(pid) }),
    leftovers: async (spec) => {
      const out: number[] = [];
      for (const pid of await netnsPids(ns)) if ((await isRunning(pid)) && (await procCmdline(pid)).includes(spec.pidFile)) out.push(pid);
      return out;
    },
    probe: async (which) => {
      const base = await daemon(which);
      const a = config.amphora_agent;
      const { config: conf, pidFile } = base.identity;
      const spec: DaemonUnitSpec = { ...base, argv: [a.ip_cmd, 'netns', 'exec', ns, '/bin/sh', probeScript, '-f', conf, '-p', pidFile], identity: { comm: 'sh', config: conf, pidFile } };
      readyLine.set(spec.unit, /probe ready/);
      return spec;
    },
  };
}

/** Stops and removes the units of an init system that reads only its own directories (systemd, upstart). */
async function stopUnits({ kind, ns, paths, specs, init, shared, units }: HarnessParts): Promise<void> {
  for (const spec of units) {
    const files = init.unitFiles(spec, specs.netns());
    if (kind === 'systemd') {
      await sh('systemctl', ['stop', `${spec.unit}.service`]);
      await sh('systemctl', ['reset-failed', `${spec.unit}.service`]);
    }
    if (kind === 'upstart') await sh('initctl', ['stop', spec.unit]);
    if (shared) await rm(files[1]!, { force: true });
  }
  if (!shared) return;
  const netns = specs.netns();
  if (kind === 'systemd') await sh('systemctl', ['stop', `${netns.unit}.service`]);
  await rm(kind === 'systemd' ? paths.systemdUnit(netns.unit) : paths.upstartJob(netns.unit), { force: true });
  const r = kind === 'systemd' ? await sh('systemctl', ['daemon-reload']) : await sh('initctl', ['reload-configuration']);
  if (r.code !== 0) throw new Error(`cleanup of ${ns} units: ${show(r)}`);
}
