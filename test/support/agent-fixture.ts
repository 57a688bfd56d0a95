/**
 * @module test/support/agent-fixture
 * A whole agent in a temporary root, for the tiers that talk to it over real sockets (tls,
 * conformance, cli):
 * - `makePki` runs the shared `gen-certs.sh` (Octavia's two-CA layout, plus rogue and expired
 *   client certificates) and `issueServerCert` signs further agent certificates with its server CA;
 * - `createAgentRoot` writes an amphora-agent.conf that moves every system location the agent
 *   writes under the temporary root, with copies of the agent's certificate files there too, so
 *   that a test may overwrite them (certificate rotation, PUT /1.0/config);
 * - `startInProcess` runs `startAgent` in the test process; `spawnCli` runs the built
 *   `node dist/amphora-agent.mjs` (the installed command) and waits until it listens.
 * Nothing here touches a system directory, and every temp dir and child process is owned by the
 * caller's `cleanup()`.
 *
 * This module only gathers them: the code is in agent-paths, test-pki, agent-root, agent-process
 * and spawned, and tests may keep importing everything from here.
 */
export { CLI, GEN_CERTS, OCTAVIA_CLIENT, OCTAVIA_REF_DIR, REPO_ROOT, SHARED_DIR } from './agent-paths.js';
export { fingerprintOf, issueServerCert, makePki, type IssuedCert, type TestPki } from './test-pki.js';
export { createAgentRoot, removeDir, renderConf, type AgentRoot, type AgentRootOptions, type ConfOverrides } from './agent-root.js';
export { Spawned, type Exit } from './spawned.js';
export {
  captureLogger,
  freePort,
  portIsFree,
  runCli,
  spawnAgent,
  spawnCli,
  startInProcess,
  tcpConnects,
  type SpawnOptions,
} from './agent-process.js';
