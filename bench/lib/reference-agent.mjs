/**
 * @module bench/lib/reference-agent
 * The reference agent: Debian's octavia-agent 11.0.0, run by the shared reference-agent.sh in
 * its sandbox on a port of its own, serving the run's PKI. Described by the shell commands
 * measure.py needs (startCmd, stopCmd, pidCmd), plus start()/stop() for suites that want it
 * running outside measure.py, and logFiles to show when something fails. Its stop is
 * registered with the cleanup.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertNotAborted, freePort, runCommand, sh } from './processes.mjs';
import { tool } from './shared-tools.mjs';

/**
 * The Debian octavia-agent 11.0.0, run by reference-agent.sh in its sandbox (systemd mode,
 * SINGLE topology) on its own port, serving our shared PKI.
 */
export async function referenceAgent(ctx, { name = 'ref', mode = 'systemd', topology = 'SINGLE', netns = null } = {}) {
  const port = await freePort();
  const state = join(ctx.tmp.dir, `reference-${name}`);
  await mkdir(state, { recursive: true });
  // `netns`: the agent's own network namespace (its "host" side, where plug/vip finds NICs),
  // instead of the host's; the port then listens in there.
  const script = tool('reference-agent.sh');
  const inNetns = netns === null ? '' : `ip netns exec ${sh(netns)} `;
  // OCTAVIA_REF_CERTS makes the sandbox use our PKI instead of generating its own;
  // OCTAVIA_REF_WAIT=0 returns at once so that measure.py times launch → first 200 itself.
  const env = `OCTAVIA_REF_CERTS=${sh(ctx.pki.dir)}`;
  const startArgs = [name, mode, topology, String(port), state];
  const adir = join(state, `agent-${name}`);

  const stop = async () => {
    if (!existsSync(join(adir, 'unshare.pid'))) return; // never started
    // A stop racing another one (measure.py's stop-cmd, orphaned when we were interrupted)
    // can fail without a message while the sandbox is half torn down; the next try then
    // finds it stopped.
    let res;
    for (let attempt = 1; attempt <= 3; attempt++) {
      res = await runCommand(script, ['stop', name, state]);
      if (res.code === 0) return;
      await sleep(1000);
    }
    // Processes may remain in the sandbox; keep the state so that they can be inspected.
    ctx.tmp.keep = true;
    ctx.tmp.keepReason = `reference-agent.sh stop ${name} failed (exit ${res.code}): ${res.stderr.trim() || 'no message'}`;
    throw new Error(ctx.tmp.keepReason);
  };
  ctx.cleanup.add(`stop reference agent ${name}`, stop);

  return {
    role: 'reference',
    label: `octavia-agent (reference-agent.sh ${mode} ${topology})`,
    port,
    /** The sandbox's state: var-lib-octavia/ is its /var/lib/octavia, log/ its /var/log. */
    agentDir: adir,
    baseUrl: `https://127.0.0.1:${port}`,
    startCmd: `${env} OCTAVIA_REF_WAIT=0 ${inNetns}${sh(script)} start ${startArgs.map(sh).join(' ')}`,
    stopCmd: `${sh(script)} stop ${sh(name)} ${sh(state)}`,
    pidCmd: `${sh(script)} pids ${sh(name)} ${sh(state)}`,
    logFiles: [join(adir, 'unshare.out'), join(adir, 'log', 'agent.stdout'), join(adir, 'log', 'amphora-agent-oslo.log')],
    async start() {
      assertNotAborted('the reference agent');
      const res = await runCommand('sh', ['-c', `${env} ${inNetns}${sh(script)} start ${startArgs.map(sh).join(' ')}`]);
      if (res.code !== 0) throw new Error(`reference-agent.sh start failed:\n${res.stderr}`);
    },
    stop,
  };
}
