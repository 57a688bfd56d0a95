/**
 * @module services/agent-directories
 * The directories the agent writes in as root, looked at once at startup (issue 14, fault 10):
 * the temp files a crash left between the create and the rename of an atomic write (full
 * copies of the private key among them) are removed, and a directory in which anyone but root
 * or the agent could plant a link (a link itself, owned by another user, group or world
 * writable) is reported. Reported, not refused: an agent that does not start leaves the
 * controller no way to repair the amphora, and no file the agent opens follows a link anyway
 * (system/files.ts); the report names what an operator must fix for the daemons' sake.
 */
import { dirname } from 'node:path';
import type { LiveConfig } from '../config/startup.js';
import type { Logger } from '../log.js';
import { directoryProblems, removeAtomicTempFiles, subdirectories } from '../system/files.js';
import { DEFAULT_NETWORK_DIR, type Paths } from '../system/paths.js';

export interface DirectoryReport {
  /** The temp files removed. */
  readonly removed: readonly string[];
  /** One line per unsafe directory. */
  readonly problems: readonly string[];
}

export class AgentDirectories {
  constructor(
    private readonly paths: Paths,
    private readonly config: () => LiveConfig,
    private readonly log: Logger,
  ) {}

  /** Every directory the agent writes in: the fixed ones, the live options' and one level below base_path and base_cert_dir (load balancers). */
  async list(configFiles: readonly string[]): Promise<string[]> {
    const agent = this.config().amphora_agent;
    const live = [dirname(agent.agent_server_cert), agent.agent_server_network_dir ?? DEFAULT_NETWORK_DIR, dirname(agent.plugged_interfaces_file), ...configFiles.map((f) => dirname(f))];
    const below = [...(await subdirectories(this.paths.base)), ...(await subdirectories(this.paths.certBaseDir))];
    return [...new Set([...this.paths.writtenDirs, ...live, ...below])];
  }

  /** Removes stale temp files and reports unsafe directories; logs both. */
  async tidy(configFiles: readonly string[], uid = process.getuid?.() ?? 0): Promise<DirectoryReport> {
    const removed: string[] = [];
    const problems: string[] = [];
    for (const dir of await this.list(configFiles)) {
      problems.push(...(await directoryProblems(dir, uid)));
      removed.push(...(await removeAtomicTempFiles(dir)));
    }
    if (removed.length > 0) this.log.warn({ removed }, 'removed temp files left by an interrupted write');
    if (problems.length > 0) this.log.error({ problems }, 'directories the agent writes in as root are unsafe: make them owned by root and not group/other-writable');
    return { removed, problems };
  }
}
