/**
 * @module services/network/interfaces-boot
 * What Octavia's `amphora-interface up all` does at boot, from the interface files, inside the
 * namespace: run by `amphora-agent --config-file … interfaces up` (the netns setup script calls
 * it after moving the plugged links in) and by the agent at startup. Also writes `lo.json`
 * (Octavia's `plug_lo`). Every file is tried; the errors are reported together.
 */
import { readdir, readFile } from 'node:fs/promises';
import type { LiveConfig } from '../../config/startup.js';
import type { Logger } from '../../log.js';
import { AgentError } from '../../model/errors.js';
import { parseInterfaceFile } from '../../model/plug/interface-file.js';
import { interfaceFileText, loopbackInterfaceFile } from '../../render/interface-file.js';
import { ensureDir, writeIfChanged } from '../../system/files.js';
import { DEFAULT_NETWORK_DIR, interfaceFilePath } from '../../system/paths.js';
import type { InterfaceUp } from './interface-up.js';

export class InterfacesBoot {
  constructor(
    private readonly config: () => LiveConfig,
    private readonly up: InterfaceUp,
    private readonly log: Logger,
  ) {}

  private get dir(): string {
    return this.config().amphora_agent.agent_server_network_dir ?? DEFAULT_NETWORK_DIR;
  }

  async writeLoopback(): Promise<void> {
    await ensureDir(this.dir);
    await writeIfChanged(interfaceFilePath(this.dir, 'lo'), interfaceFileText(loopbackInterfaceFile()), 0o644);
  }

  /** Brings up every interface that has a file; returns the names brought up. */
  async upAll(): Promise<string[]> {
    await this.writeLoopback();
    const names = (await readdir(this.dir)).filter((f) => f.endsWith('.json')).sort();
    const done: string[] = [];
    const errors: string[] = [];
    for (const f of names) {
      const source = `${this.dir}/${f}`;
      try {
        const file = parseInterfaceFile(JSON.parse(await readFile(source, 'utf8')), source);
        await this.up.up(file);
        done.push(file.name);
      } catch (err) {
        errors.push(`${f}: ${(err as Error).message}`);
      }
    }
    if (errors.length > 0) {
      this.log.error({ errors }, 'interfaces not brought up');
      throw new AgentError('internal', 500, 'Some interfaces could not be brought up', errors.join('\n'));
    }
    return done;
  }
}
