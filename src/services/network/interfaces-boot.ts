/**
 * @module services/network/interfaces-boot
 * What the reference does at boot (contract §6): move the plugged NICs back into the namespace
 * (plugged-links.ts), then what Octavia's `amphora-interface up all` does, from the interface
 * files, inside the namespace. One implementation for both callers: the CLI
 * `amphora-agent --config-file … interfaces up`, which the netns setup script runs after it
 * created the namespace (the netns unit of every init system), and the agent itself when it had
 * to create the namespace, or at startup in `direct` mode. Also writes `lo.json` (Octavia's
 * `plug_lo`). Every NIC and every file is tried; the errors are reported together.
 */
import { readdir, readFile } from 'node:fs/promises';
import type { LiveConfig } from '../../config/startup.js';
import type { Logger } from '../../log.js';
import { InterfacesNotUp } from '../../model/errors.js';
import { parseInterfaceFile } from '../../model/plug/interface-file.js';
import { interfaceFileText, loopbackInterfaceFile } from '../../render/interface-file.js';
import { ensureDir, readIfExists, writeIfChanged } from '../../system/files.js';
import { DEFAULT_NETWORK_DIR, interfaceFilePath } from '../../system/paths.js';
import type { InterfaceUp } from './interface-up.js';
import type { PluggedLinks } from './plugged-links.js';

export interface BootResult {
  /** `<mac> <home name> -> <name>` for each NIC moved into the namespace. */
  readonly moved: readonly string[];
  /** The interfaces brought up, by name. */
  readonly up: readonly string[];
}

export class InterfacesBoot {
  constructor(
    private readonly config: () => LiveConfig,
    private readonly up: InterfaceUp,
    private readonly links: PluggedLinks,
    private readonly log: Logger,
  ) {}

  private get dir(): string {
    return this.config().amphora_agent.agent_server_network_dir ?? DEFAULT_NETWORK_DIR;
  }

  async writeLoopback(): Promise<void> {
    await ensureDir(this.dir);
    await writeIfChanged(interfaceFilePath(this.dir, 'lo'), interfaceFileText(loopbackInterfaceFile()), 0o644);
  }

  /** Whether a boot bring-up has anything to do beyond lo: a plugged NIC or an interface file. */
  async anythingPlugged(): Promise<boolean> {
    if (((await readIfExists(this.config().amphora_agent.plugged_interfaces_file)) ?? '').trim() !== '') return true;
    const files = await readdir(this.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    });
    return files.some((f) => f.endsWith('.json') && f !== 'lo.json');
  }

  /** The whole boot bring-up: the plugged NICs moved in, then every interface file brought up. */
  async restore(): Promise<BootResult> {
    const adopted = await this.links.adopt();
    const up = await this.upEach();
    const problems = [...adopted.errors, ...up.errors];
    this.log.info({ moved: adopted.moved, up: up.done }, 'interfaces brought up from their files');
    if (problems.length > 0) {
      this.log.error({ problems }, 'interfaces not brought up');
      throw new InterfacesNotUp(problems);
    }
    return { moved: adopted.moved, up: up.done };
  }

  /** Brings up every interface that has a file; returns the names brought up. */
  async upAll(): Promise<string[]> {
    const { done, errors } = await this.upEach();
    if (errors.length > 0) {
      this.log.error({ errors }, 'interfaces not brought up');
      throw new InterfacesNotUp(errors);
    }
    return done;
  }

  private async upEach(): Promise<{ done: string[]; errors: string[] }> {
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
    return { done, errors };
  }
}
