/**
 * @module services/network/vip-firewall
 * The nftables firewall of an SR-IOV VIP (Octavia master: `nftable_utils.py`, `set_interface_rules`
 * in `server.py`, `Interface.up` in `utils/interface.py`). One ruleset file, `paths.nftRulesFile`
 * (mode 0600), loaded with `nft -o -f` inside the amphora namespace; `nft -f` applies a file in
 * one kernel transaction, so a load either replaces the whole table or changes nothing.
 *
 * When each entry point runs (master's order):
 * - `ensureBaseRules()` then `load()`: at the start of bringing up any interface whose interface
 *   file says `is_sriov` (the VIP of `POST /1.0/plug/vip` with `is_sriov: true`, a member NIC of
 *   `POST /1.0/plug/network` with `is_sriov: true`, and each such interface again at boot), before
 *   the link is set up. `ensureBaseRules` writes the "drop all but ICMP/DHCP" ruleset only when no
 *   ruleset file exists, so a reboot keeps the rules the controller last sent; `load` then puts
 *   the file's ruleset into the kernel (the namespace's ruleset does not survive a reboot).
 * - `setRules(address, rules)`: `PUT /1.0/interface/{ip}/rules`, which the controller sends after
 *   plugging and after every listener change of a load balancer with an SR-IOV VIP.
 *
 * A ruleset the kernel refuses leaves the previous file and the kernel's rules as they were: the
 * new text is staged beside the file, loaded from there, and written over the file only once
 * loaded; the refused copy is kept as `<file>.new-failed`.
 */
import type { LiveConfig } from '../../config/startup.js';
import type { Logger } from '../../log.js';
import type { FirewallRule } from '../../model/firewall-rules.js';
import type { IpAddress } from '../../model/ip-address.js';
import { NFT_FAMILY, NFT_TABLE, renderBaseRules, renderVipRules } from '../../render/nft-rules.js';
import type { ProcessRunner } from '../../system/exec.js';
import { exists, readIfExists, removeFile, writeFileAtomic } from '../../system/files.js';
import type { Paths } from '../../system/paths.js';
import { KeyedLock } from '../keyed-lock.js';
import type { NamespaceInterfaces } from './interfaces.js';

/** Master writes the ruleset 0600: it lists what the amphora accepts and from where. */
export const NFT_RULES_MODE = 0o600;

export interface VipFirewallDeps {
  readonly config: () => LiveConfig;
  readonly paths: Paths;
  readonly runner: ProcessRunner;
  readonly interfaces: NamespaceInterfaces;
  readonly log: Logger;
}

export class VipFirewall {
  /** One ruleset file and one kernel table: every change is serialized. */
  private readonly lock = new KeyedLock();

  constructor(private readonly deps: VipFirewallDeps) {}

  /** Writes the base ruleset when no ruleset file exists; returns whether it wrote one. Loads nothing. */
  async ensureBaseRules(): Promise<boolean> {
    return this.lock.run('nft', async () => {
      const file = this.deps.paths.nftRulesFile;
      if (await exists(file)) return false;
      await writeFileAtomic(file, renderBaseRules(), NFT_RULES_MODE);
      this.deps.log.info({ file }, 'SR-IOV VIP firewall: base ruleset written');
      return true;
    });
  }

  /**
   * Undoes a base ruleset that a failed bring-up wrote: removes the file and the kernel's table,
   * but only while the file is still the base ruleset (rules the controller sent stay).
   */
  async removeBaseRules(): Promise<void> {
    await this.lock.run('nft', async () => {
      const file = this.deps.paths.nftRulesFile;
      if ((await readIfExists(file)) !== renderBaseRules()) return;
      await this.deps.runner.run(this.deps.config().amphora_agent.nft_cmd, ['delete', 'table', NFT_FAMILY, NFT_TABLE], { netns: this.deps.paths.namespace, allowFailure: true });
      await removeFile(file);
      this.deps.log.info({ file }, 'SR-IOV VIP firewall: base ruleset removed (failed bring-up)');
    });
  }

  /** Loads the ruleset file into the namespace; returns false (and loads nothing) when there is none. */
  async load(): Promise<boolean> {
    return this.lock.run('nft', async () => {
      const file = this.deps.paths.nftRulesFile;
      if (!(await exists(file))) return false;
      await this.nftLoad(file);
      return true;
    });
  }

  /**
   * Replaces the ruleset with one that lets `rules` in on the interface holding `address`
   * (master's vrrp_ip, on the VIP interface). `NotFound` when no interface holds it. An empty
   * list closes the VIP interface to all but the always-accepted traffic (master keeps the
   * previous ruleset instead, which would leave a deleted listener's port open).
   */
  async setRules(address: IpAddress, rules: readonly FirewallRule[]): Promise<string> {
    const vipInterface = await this.deps.interfaces.interfaceOf(address);
    const text = renderVipRules(vipInterface, rules);
    await this.lock.run('nft', async () => {
      const { paths } = this.deps;
      const staged = paths.stagedConfig(paths.nftRulesFile);
      await writeFileAtomic(staged, text, NFT_RULES_MODE);
      try {
        await this.nftLoad(staged);
      } catch (err) {
        await writeFileAtomic(paths.rejectedConfig(paths.nftRulesFile), text, NFT_RULES_MODE);
        await removeFile(staged);
        throw err;
      }
      await writeFileAtomic(paths.nftRulesFile, text, NFT_RULES_MODE);
      await removeFile(staged);
    });
    this.deps.log.info({ interface: vipInterface, rules: rules.length }, 'SR-IOV VIP firewall: rules applied');
    return vipInterface;
  }

  private async nftLoad(file: string): Promise<void> {
    // -o: let nft merge rules into sets as master does (`nft -o -f`)
    await this.deps.runner.run(this.deps.config().amphora_agent.nft_cmd, ['-o', '-f', file], { netns: this.deps.paths.namespace });
  }
}
