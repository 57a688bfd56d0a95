/**
 * @module services/network/plug
 * plug vip and plug network (contract §4.12, §4.13): find the NIC by MAC in the agent's own
 * namespace, write its interface file and `plugged_interfaces` line, move it into the amphora
 * namespace under the reference's name (eth1 for the VIP, the first free ethN from eth2 for
 * member ports) and bring it up. A failure undoes it all: the NIC goes back where it was under
 * its old name, the file and the line are removed (or the previous file put back), the rules
 * and masquerade rules it added are deleted. Requests are serialized: two plugs must not pick
 * the same name. Two additions to the reference: a NIC the agent itself is reached through is
 * never moved (lifeline.ts: 409); and, as the reference does, a MAC that no NIC has makes the
 * kernel rescan the PCI bus before the 404, so a NIC hot-plugged late is there for the retry.
 */
import { join } from 'node:path';
import type { LiveConfig } from '../../config/startup.js';
import type { Logger } from '../../log.js';
import { Conflict, ReferenceAnswer } from '../../model/errors.js';
import { VIP_INTERFACE, type InterfaceFile } from '../../model/plug/interface-file.js';
import type { PlugNetworkRequest, PlugVipRequest } from '../../model/plug/requests.js';
import { interfaceFileText, portInterfaceFile, vipInterfaceFile } from '../../render/interface-file.js';
import { ensureDir, readIfExists, removeFile, writeExistingFile, writeFileAtomic } from '../../system/files.js';
import { interfaceFilePath, type Paths } from '../../system/paths.js';
import { KeyedLock } from '../keyed-lock.js';
import type { AmphoraNamespace } from '../namespace.js';
import type { IpState, Link } from './ip-state.js';
import type { InterfaceUp } from './interface-up.js';
import { lifelineReason } from './lifeline.js';

export const NO_INTERFACE = () => new ReferenceAnswer(404, 'not_found', { details: 'No suitable network interface found' });

export interface PlugDeps {
  readonly config: () => LiveConfig;
  readonly paths: Paths;
  readonly ip: IpState;
  readonly up: InterfaceUp;
  readonly namespace: AmphoraNamespace;
  /** The agent's own network namespace as `ip link set … netns` names it (its pid in production). */
  readonly homeNetns: string;
  /** `[haproxy_amphora] bind_host` as the agent was started with (a startup option). */
  readonly bindHost: string | null;
  readonly log: Logger;
}

export class Plugs {
  private readonly lock = new KeyedLock();

  constructor(private readonly deps: PlugDeps) {}

  private get ns(): string {
    return this.deps.paths.namespace;
  }

  private fileOf(name: string): string {
    return interfaceFilePath(this.deps.config().amphora_agent.agent_server_network_dir, name);
  }

  async plugVip(req: PlugVipRequest): Promise<string> {
    await this.deps.namespace.ensure();
    return this.lock.run('plug', async () => {
      if ((await this.deps.ip.links(this.ns)).some((l) => l.address === req.mac)) throw new Conflict('Interface already exists');
      const home = await this.homeLink(req.mac);
      const topology = this.deps.config().controller_worker.loadbalancer_topology;
      await this.attach(home, req.mac, vipInterfaceFile({ ...req, name: VIP_INTERFACE, topology }));
      return `VIPs plugged on interface ${VIP_INTERFACE}: ${req.vips.map((v) => v.ip).join(', ')}`;
    });
  }

  async plugNetwork(req: PlugNetworkRequest): Promise<string> {
    await this.deps.namespace.ensure();
    return this.lock.run('plug', async () => {
      const inside = await this.deps.ip.links(this.ns);
      const existing = inside.find((l) => l.address === req.mac);
      if (existing) {
        await this.update(existing.ifname, req);
        return `Updated existing interface ${existing.ifname}`;
      }
      const home = await this.homeLink(req.mac);
      const names = new Set(inside.map((l) => l.ifname));
      let n = 2;
      while (names.has(`eth${n}`)) n++;
      const file = portInterfaceFile({ name: `eth${n}`, mtu: req.mtu, fixedIps: req.fixedIps, isSriov: req.isSriov });
      await this.attach(home, req.mac, file);
      return `Plugged on interface ${file.name}`;
    });
  }

  private fileFor(name: string, req: PlugNetworkRequest): InterfaceFile {
    if (!req.vipNet) return portInterfaceFile({ name, mtu: req.mtu, fixedIps: req.fixedIps, isSriov: req.isSriov });
    const topology = this.deps.config().controller_worker.loadbalancer_topology;
    return vipInterfaceFile({ ...req.vipNet, name, topology, mtu: req.mtu, isSriov: req.isSriov, fixedIps: req.fixedIps });
  }

  /** Re-plug of a NIC already inside: rewrite its file and bring it up; a failure puts the old file back. */
  private async update(name: string, req: PlugNetworkRequest): Promise<void> {
    const path = this.fileOf(name);
    const previous = await readIfExists(path);
    const file = this.fileFor(name, req);
    await this.writeFile(path, file);
    try {
      await this.deps.up.up(file);
    } catch (err) {
      await (previous === undefined ? removeFile(path) : writeFileAtomic(path, previous, 0o644));
      throw err;
    }
  }

  private async homeLink(mac: string): Promise<Link> {
    const link = (await this.deps.ip.links(undefined)).find((l) => l.address === mac);
    if (!link) {
      await this.rescanPci();
      throw NO_INTERFACE();
    }
    const lifeline = await lifelineReason(this.deps.ip, this.deps.bindHost, link);
    if (lifeline !== undefined) throw new Conflict(`Interface ${link.ifname} ${lifeline}: it is not moved into the amphora namespace`);
    return link;
  }

  /** Best effort: the answer is the 404 whatever happens here. */
  private async rescanPci(): Promise<void> {
    const file = this.deps.paths.pciRescanFile;
    try {
      if (!(await writeExistingFile(file, '1'))) this.deps.log.info({ file }, 'no PCI rescan file');
    } catch (err) {
      this.deps.log.warn({ err, file }, 'PCI rescan failed');
    }
  }

  private async writeFile(path: string, file: InterfaceFile): Promise<void> {
    await ensureDir(join(path, '..'));
    await writeFileAtomic(path, interfaceFileText(file), 0o644);
  }

  private async attach(home: Link, mac: string, file: InterfaceFile): Promise<void> {
    const path = this.fileOf(file.name);
    const previous = await readIfExists(path);
    let recorded = false;
    let moved = false;
    try {
      await this.writeFile(path, file);
      recorded = await this.record(mac, file.name);
      await this.deps.ip.run(undefined, ['link', 'set', 'dev', home.ifname, 'netns', this.ns, 'name', file.name]);
      moved = true;
      await this.deps.up.up(file);
    } catch (err) {
      this.deps.log.warn({ err, iface: file.name, mac }, 'plug failed: undoing it');
      await this.deps.up.undo(file).catch((e: unknown) => this.deps.log.warn({ err: e }, 'undo of rules failed'));
      if (moved) await this.deps.ip.run(this.ns, ['link', 'set', 'dev', file.name, 'netns', this.deps.homeNetns, 'name', home.ifname], true);
      await (previous === undefined ? removeFile(path) : writeFileAtomic(path, previous, 0o644));
      if (recorded) await this.unrecord(mac);
      throw err;
    }
  }

  private get pluggedFile(): string {
    return this.deps.config().amphora_agent.plugged_interfaces_file;
  }

  /** Adds `<mac> <name>` unless the MAC is listed; returns whether it added it. */
  private async record(mac: string, name: string): Promise<boolean> {
    const text = (await readIfExists(this.pluggedFile)) ?? '';
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    if (lines.some((l) => l.split(/\s+/)[0]?.toLowerCase() === mac)) return false;
    await ensureDir(join(this.pluggedFile, '..'));
    await writeFileAtomic(this.pluggedFile, [...lines, `${mac} ${name}`].join('\n') + '\n', 0o644);
    return true;
  }

  private async unrecord(mac: string): Promise<void> {
    const text = (await readIfExists(this.pluggedFile)) ?? '';
    const lines = text.split('\n').filter((l) => l.trim() !== '' && l.split(/\s+/)[0]?.toLowerCase() !== mac);
    await writeFileAtomic(this.pluggedFile, lines.length > 0 ? lines.join('\n') + '\n' : '', 0o644);
  }
}
