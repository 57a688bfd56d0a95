/**
 * @module services/check-scripts
 * The scripts the agent keeps on disk for keepalived: the namespace setup, the UDP-CONNECT
 * member check that controller-rendered LVS configs call, the VRRP check script and the LVS
 * liveness check it runs. Each is re-rendered when its content would change; the liveness
 * check lists exactly the LVS listeners that should be running, from the registry.
 */
import type { AgentConfig } from '../config/schema.js';
import type { Uuid } from '../model/uuid.js';
import { renderHaproxyLivenessCheck, renderLvsLivenessCheck, renderNetnsSetup, renderUdpCheck, renderVrrpCheck } from '../render/scripts.js';
import type { ProcessRunner } from '../system/exec.js';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ensureDir, exists, writeIfChanged } from '../system/files.js';
import type { Paths } from '../system/paths.js';
import { KeyedLock } from './keyed-lock.js';
import type { StateStore } from './state.js';

/** keepalived refuses scripts in directories that others can write to. */
const SCRIPT_MODE = 0o755;

export class CheckScripts {
  private readonly lock = new KeyedLock();
  private namespaceReady = false;

  constructor(
    private readonly config: AgentConfig,
    private readonly paths: Paths,
    private readonly state: StateStore,
    private readonly runner: ProcessRunner,
  ) {}

  /**
   * Makes sure the network namespace exists with its settings: runs the setup script the first
   * time and whenever the namespace has gone (a reboot empties /run), not on every request.
   */
  async ensureNamespace(): Promise<void> {
    await this.writeNetnsSetup();
    await this.lock.run('netns-run', async () => {
      if (this.namespaceReady && (await exists(this.paths.netnsFile))) return;
      await this.runner.run('/bin/sh', [this.paths.netnsSetupScript]);
      this.namespaceReady = true;
    });
  }

  async writeNetnsSetup(): Promise<void> {
    const a = this.config.amphora_agent;
    await ensureDir(this.paths.base);
    const text = renderNetnsSetup({ namespace: a.network_namespace, ipCmd: a.ip_cmd, loadModules: true });
    await this.lock.run('netns', () => writeIfChanged(this.paths.netnsSetupScript, text, SCRIPT_MODE));
  }

  async writeUdpCheck(): Promise<void> {
    await ensureDir(this.paths.lvsDir);
    await this.lock.run('udp', () => writeIfChanged(this.paths.udpCheckScript, renderUdpCheck(), SCRIPT_MODE));
  }

  async writeVrrpCheck(): Promise<void> {
    await ensureDir(this.paths.vrrpCheckScriptsDir);
    const text = renderVrrpCheck(this.paths.vrrpCheckScriptsDir);
    await this.lock.run('vrrp', () => writeIfChanged(this.paths.vrrpCheckScript, text, SCRIPT_MODE));
  }

  /**
   * keepalived silently disables a check script when the script or a directory above it can be
   * written by anyone but root ("Unsafe permissions found for script"): dead members then stay
   * in IPVS and the VRRP check never fails. Debian's octavia-common, for one, makes
   * /var/lib/octavia owned by the octavia user. Returns one warning per unsafe directory.
   */
  async scriptDirectoryProblems(): Promise<string[]> {
    const problems: string[] = [];
    for (let dir = this.paths.base; ; dir = dirname(dir)) {
      try {
        const s = await stat(dir);
        if (s.uid !== 0) problems.push(`${dir} is owned by uid ${s.uid}, not root`);
        if ((s.mode & 0o022) !== 0 && (s.mode & 0o1000) === 0) problems.push(`${dir} is writable by group or others`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      if (dirname(dir) === dir) break;
    }
    return problems;
  }

  /** Rewrites the haproxy liveness check from the registry; serialized so the newest view wins. */
  async writeHaproxyLiveness(): Promise<void> {
    await this.lock.run('haproxy-liveness', async () => {
      await ensureDir(this.paths.vrrpCheckScriptsDir);
      const lbs = Object.values(this.state.current.loadBalancers)
        .filter((lb) => lb.wantRunning)
        .map((lb) => ({ id: lb.id, pidFile: this.paths.haproxyPidFile(lb.id as Uuid) }));
      await writeIfChanged(this.paths.haproxyLivenessCheckScript, renderHaproxyLivenessCheck(this.paths.procDir, lbs), SCRIPT_MODE);
    });
  }

  /** Rewrites the LVS liveness check from the registry; serialized so the newest view wins. */
  async writeLvsLiveness(): Promise<void> {
    await this.lock.run('lvs-liveness', async () => {
      await ensureDir(this.paths.vrrpCheckScriptsDir);
      const listeners = Object.values(this.state.current.lvsListeners)
        .filter((l) => l.wantRunning)
        .map((l) => {
          const id = l.id as Uuid;
          return { id, pidFile: this.paths.lvsPidFile(id), checkPidFile: l.hasVirtualServer ? this.paths.lvsCheckPidFile(id) : null };
        });
      await writeIfChanged(this.paths.lvsLivenessCheckScript, renderLvsLivenessCheck(this.paths.procDir, listeners), SCRIPT_MODE);
    });
  }
}
