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
import { InterfaceUp } from './interface-up.js';
import { InterfacesBoot } from './interfaces-boot.js';
import { IpState } from './ip-state.js';
import { Masquerade } from './masquerade.js';
import { PluggedLinks } from './plugged-links.js';
import { Plugs } from './plug.js';

export interface NetworkSeams {
  readonly config: () => LiveConfig;
  readonly paths: Paths;
  readonly runner: ProcessRunner;
  readonly namespace: AmphoraNamespace;
  readonly homeNetns: string;
  readonly log: Logger;
}

export function buildNetwork(seams: NetworkSeams) {
  const { config, paths, runner, log } = seams;
  const ip = new IpState(runner, () => config().amphora_agent.ip_cmd);
  const up = new InterfaceUp({ ip, runner, masquerade: new Masquerade(runner, paths.namespace, log), netns: paths.namespace, log });
  return {
    plugs: new Plugs({ config, paths, ip, up, namespace: seams.namespace, homeNetns: seams.homeNetns, log }),
    interfacesBoot: new InterfacesBoot(config, up, new PluggedLinks({ config, ip, netns: paths.namespace, log }), log),
  };
}
