/**
 * @module test/support/keepalived-fixture
 * Helpers for the integration tests that run real keepalived, in one import: commands
 * (test/support/commands.ts), a poller (wait-for.ts), uniquely named network namespaces and veth
 * pairs created directly inside them, so no link ever appears in the host's namespace
 * (netns.ts), process facts read from /proc (processes.ts), Octavia's own templaters
 * (octavia-templaters.ts: octavia-render.py under /usr/bin/python3) and an mTLS client bound to
 * one agent (agent-client.ts). It owns only what is keepalived's: where the binary is, and which
 * of a namespace's processes run a given config. Everything a test creates is named
 * `aat-<random>`, and is removed by pid or by name.
 */
import { netnsPids } from './netns.js';
import { isRunning, procCmdline, procComm } from './processes.js';

export { must, sh, show, type Result } from './commands.js';
export { waitFor } from './wait-for.js';
export { addLocalVeth, addNetns, addVethPair, addressesIn, deleteNetns, netnsExists, netnsInode, netnsPids, uniqueName } from './netns.js';
export {
  crash,
  isGone,
  isRunning,
  killQuietly,
  procCmdline,
  procComm,
  procState,
  processNetnsInode,
  readPidFile,
  spawnDetachedProcess,
  type Detached,
} from './processes.js';
export { RENDER_SCRIPT, SYSTEM_PYTHON, renderLvs, renderVrrp, withoutCheckScript, type LvsMember, type LvsSpec, type VrrpSpec } from './octavia-templaters.js';
export { agentClient, describeResponse, jsonOf, type AgentClient } from './agent-client.js';

export const KEEPALIVED = '/usr/sbin/keepalived';

/** Live keepalived processes (not zombies) whose command line names `configFile`. */
export async function keepalivedsWithConfig(ns: string, configFile: string): Promise<number[]> {
  const out: number[] = [];
  for (const pid of await netnsPids(ns)) {
    if ((await procComm(pid)) === 'keepalived' && (await isRunning(pid)) && (await procCmdline(pid)).includes(configFile)) out.push(pid);
  }
  return out;
}
