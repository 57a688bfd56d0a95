/**
 * @module services/check-scripts
 * The scripts the agent keeps on disk for keepalived: the UDP-CONNECT member check that
 * controller-rendered LVS configs call, the VRRP check script and the LVS and haproxy liveness
 * checks it runs. Each is re-rendered when its content would change; the liveness checks list
 * exactly the listeners and load balancers that should be running, from the registry, each
 * with the identity its daemon is judged by (daemon-specs.ts), the one the agent judges by too.
 */
import type { Uuid } from '../model/uuid.js';
import { renderHaproxyLivenessCheck, renderLvsLivenessCheck, renderUdpCheck, renderVrrpCheck } from '../render/scripts.js';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ensureDir, writeIfChanged } from '../system/files.js';
import type { Paths } from '../system/paths.js';
import { haproxyIdentity, lvsIdentity } from './daemon-specs.js';
import { KeyedLock } from './keyed-lock.js';
import { SCRIPT_MODE } from './namespace.js';
import { runsVirtualServers, type StateStore } from './state.js';

export class CheckScripts {
  private readonly lock = new KeyedLock();

  constructor(
    private readonly paths: Paths,
    private readonly state: StateStore,
  ) {}

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
        .map((lb) => ({ id: lb.id, ...haproxyIdentity(this.paths, lb.id as Uuid) }));
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
          return { id, ...lvsIdentity(this.paths, id), checkPidFile: runsVirtualServers(l) ? this.paths.lvsCheckPidFile(id) : null };
        });
      await writeIfChanged(this.paths.lvsLivenessCheckScript, renderLvsLivenessCheck(this.paths.procDir, listeners), SCRIPT_MODE);
    });
  }
}
