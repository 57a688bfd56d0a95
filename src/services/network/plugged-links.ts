/**
 * @module services/network/plugged-links
 * The first half of the boot bring-up (contract §6, the reference's netns unit): every NIC listed
 * in `plugged_interfaces` that is in the agent's own namespace (where a reboot or the loss of
 * the amphora namespace leaves it) is moved into the amphora namespace under its recorded name.
 * A NIC already inside is left alone, so running it again changes nothing. A listed MAC that is
 * nowhere, or a name already taken inside, is reported and the other NICs still move.
 */
import type { LiveConfig } from '../../config/startup.js';
import type { Logger } from '../../log.js';
import { parsePluggedInterfaces, type PluggedInterface } from '../../model/plug/plugged-interfaces.js';
import { readIfExists } from '../../system/files.js';
import type { IpState, Link } from './ip-state.js';

export interface AdoptResult {
  /** `<mac> <home name> -> <name>` for each NIC moved. */
  readonly moved: readonly string[];
  readonly errors: readonly string[];
}

export interface PluggedLinksDeps {
  readonly config: () => LiveConfig;
  readonly ip: IpState;
  /** The amphora namespace. */
  readonly netns: string;
  readonly log: Logger;
}

export class PluggedLinks {
  constructor(private readonly deps: PluggedLinksDeps) {}

  async adopt(): Promise<AdoptResult> {
    const file = this.deps.config().amphora_agent.plugged_interfaces_file;
    const { entries, problems } = parsePluggedInterfaces((await readIfExists(file)) ?? '');
    const errors = problems.map((p) => `${file} ${p}`);
    const moved: string[] = [];
    if (entries.length === 0) return { moved, errors };
    const home = await this.deps.ip.links(undefined);
    const inside = await this.deps.ip.links(this.deps.netns);
    for (const entry of entries) {
      try {
        const done = await this.adoptOne(entry, home, inside);
        if (done !== undefined) moved.push(done);
      } catch (err) {
        errors.push(`${entry.mac} (${entry.name}): ${(err as Error).message}`);
      }
    }
    if (moved.length > 0) this.deps.log.info({ moved, netns: this.deps.netns }, 'plugged interfaces moved into the namespace');
    return { moved, errors };
  }

  /** Moves one NIC in; `undefined` when it is already there. */
  private async adoptOne(entry: PluggedInterface, home: readonly Link[], inside: readonly Link[]): Promise<string | undefined> {
    const there = inside.find((l) => l.address === entry.mac);
    if (there) {
      if (there.ifname !== entry.name) this.deps.log.warn({ mac: entry.mac, recorded: entry.name, actual: there.ifname }, 'plugged interface is in the namespace under another name');
      return undefined;
    }
    const link = home.find((l) => l.address === entry.mac);
    if (!link) throw new Error(`no network interface with this MAC address`);
    const taken = inside.find((l) => l.ifname === entry.name);
    if (taken) throw new Error(`${entry.name} is taken in namespace ${this.deps.netns} by ${taken.address || 'another link'}`);
    await this.deps.ip.run(undefined, ['link', 'set', 'dev', link.ifname, 'netns', this.deps.netns, 'name', entry.name]);
    return `${entry.mac} ${link.ifname} -> ${entry.name}`;
  }
}
