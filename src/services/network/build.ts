/**
 * @module services/network/build
 * Wires the network services (plug, bring-up, boot) from the seams buildServices (and the
 * `interfaces up` CLI, main.ts) gets.
 */
import type { LiveConfig } from '../../config/startup.js';
import type { Logger } from '../../log.js';
import type { ProcessRunner } from '../../system/exec.js';
import type { Paths } from '../../system/paths.js';
import type { AmphoraNamespace } from '../namespace.js';
import { InterfaceUp, type SriovFirewall } from './interface-up.js';
import { InterfacesBoot } from './interfaces-boot.js';
import { IpState } from './ip-state.js';
import { Masquerade } from './masquerade.js';
import { NamespaceInterfaces } from './interfaces.js';
import { PluggedLinks } from './plugged-links.js';
import { Plugs } from './plug.js';
import { VipFirewall } from './vip-firewall.js';

export interface NetworkSeams {
  readonly config: () => LiveConfig;
  readonly paths: Paths;
  readonly runner: ProcessRunner;
  readonly namespace: AmphoraNamespace;
  readonly homeNetns: string;
  /** `[haproxy_amphora] bind_host` at startup: plug never moves the NIC holding it. */
  readonly bindHost: string | null;
  /** The SR-IOV VIP firewall (services/build-services.ts makes it: PUT /1.0/interface/{ip}/rules uses it too). */
  readonly vipFirewall: SriovFirewall;
  readonly log: Logger;
}

export function buildNetwork(seams: NetworkSeams) {
  const { config, paths, runner, log } = seams;
  const ip = new IpState(runner, () => config().amphora_agent.ip_cmd);
  const up = new InterfaceUp({ ip, runner, masquerade: new Masquerade(runner, paths.namespace, log), firewall: seams.vipFirewall, netns: paths.namespace, log });
  return {
    plugs: new Plugs({ config, paths, ip, up, namespace: seams.namespace, homeNetns: seams.homeNetns, bindHost: seams.bindHost, log }),
    interfacesBoot: new InterfacesBoot(config, up, new PluggedLinks({ config, ip, netns: paths.namespace, log }), log),
  };
}

/**
 * The network services on their own, with a VIP firewall of their own: for the `interfaces up`
 * CLI, which brings interfaces up (SR-IOV ones included) and serves no API.
 */
export function buildStandaloneNetwork(seams: Omit<NetworkSeams, 'vipFirewall'>) {
  const { config, paths, runner, log } = seams;
  const interfaces = new NamespaceInterfaces({ config, paths, runner });
  return buildNetwork({ ...seams, vipFirewall: new VipFirewall({ config, paths, runner, interfaces, log: log.child({ component: 'vip-firewall' }) }) });
}
