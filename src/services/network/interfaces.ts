/**
 * @module services/network/interfaces
 * Which interface of the amphora namespace holds an address (`GET /1.0/interface/{ip}`, and the
 * SR-IOV firewall's lookup of the interface its rules guard). Addresses are compared in their
 * canonical spelling (model/ip-address.ts), so any spelling of an IPv6 address finds it. A
 * namespace that does not exist (yet) holds no address: the answer is the reference's 404, and
 * the namespace is not created by asking.
 */
import type { LiveConfig } from '../../config/startup.js';
import { NotFound } from '../../model/errors.js';
import { parseIpAddress, type IpAddress } from '../../model/ip-address.js';
import type { ProcessRunner } from '../../system/exec.js';
import { exists } from '../../system/files.js';
import { namespaceAddresses } from '../../system/net/addresses.js';
import type { Paths } from '../../system/paths.js';

export interface NamespaceInterfacesDeps {
  readonly config: () => LiveConfig;
  readonly paths: Paths;
  readonly runner: ProcessRunner;
}

export const INTERFACE_NOT_FOUND = 'Error interface not found for IP address';

export class NamespaceInterfaces {
  constructor(private readonly deps: NamespaceInterfacesDeps) {}

  /** The name of the interface holding `address` inside the amphora namespace; `NotFound` when none does. */
  async interfaceOf(address: IpAddress): Promise<string> {
    const { paths, runner, config } = this.deps;
    if (!(await exists(paths.netnsFile))) throw new NotFound(INTERFACE_NOT_FOUND);
    const addresses = await namespaceAddresses(runner, config().amphora_agent.ip_cmd, paths.namespace);
    const found = addresses.find((a) => parseIpAddress(a.local)?.text === address.text);
    if (!found) throw new NotFound(INTERFACE_NOT_FOUND);
    return found.ifname;
  }
}
