/**
 * @module bench/lib/our-agent
 * Our agent as installed (dist/amphora-agent.mjs), configured like the reference (see
 * reference-agent.mjs) but with every directory under a temp root and init_system = direct.
 * Described by the same commands and methods as the reference agent; its stop (by pid file,
 * only while that pid is still our node) is registered with the cleanup.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from './knobs.mjs';
import { log } from './log.mjs';
import { assertNotAborted, freePort, isAlive, sh, waitForPort } from './processes.mjs';
import { REPO } from './shared-tools.mjs';

/**
 * Writes `home`/amphora-agent.conf: every directory under `at()`, the rest as reference-agent.sh
 * writes it, `settings` merged over it. Refuses the namespace amphora-haproxy on this host.
 */
async function writeConfig(ctx, home, at, port, settings) {
  const basePath = at('var/lib/octavia');
  const logFile = at('var/log/amphora-agent.log');
  const sections = {
    DEFAULT: { debug: 'True', log_file: logFile },
    haproxy_amphora: {
      base_path: basePath,
      base_cert_dir: at('var/lib/octavia/certs'),
      bind_host: '127.0.0.1',
      bind_port: port,
    },
    amphora_agent: {
      agent_server_cert: ctx.pki.serverPem,
      agent_server_ca: ctx.pki.clientCaPem,
      agent_server_network_dir: at('etc/octavia/interfaces'),
      amphora_id: ctx.pki.amphoraId,
      agent_tls_protocol: 'TLSv1.2',
      amphora_udp_driver: 'keepalived_lvs',
      init_system: 'direct',
      systemd_unit_dir: at('usr/lib/systemd/system'),
      sysvinit_dir: at('etc/init.d'),
      upstart_dir: at('etc/init'),
      haproxy_user_group_file: at('var/lib/octavia/haproxy-default-user-group.conf'),
      plugged_interfaces_file: at('var/lib/octavia/plugged_interfaces'),
    },
    health_manager: { controller_ip_port_list: '127.0.0.1:15555', heartbeat_interval: 10, heartbeat_key: 'insecure' },
    controller_worker: { loadbalancer_topology: 'SINGLE' },
  };
  for (const [section, options] of Object.entries(settings)) Object.assign((sections[section] ??= {}), options);
  if (sections.amphora_agent.network_namespace === 'amphora-haproxy') {
    throw new UsageError('refusing to run our agent in the network namespace amphora-haproxy on this host; use testNamespace()');
  }
  const configFile = join(home, 'amphora-agent.conf');
  const text = Object.entries(sections)
    .map(([section, options]) => `[${section}]\n${Object.entries(options).map(([k, v]) => `${k} = ${v}`).join('\n')}\n`)
    .join('\n');
  await writeFile(configFile, `# written by bench/lib/our-agent.mjs\n${text}`, { mode: 0o600 });
  return { configFile, basePath, logFile };
}

/** Stops the agent whose pid is in `pidFile`, only while that pid is still our node (guards against PID reuse). */
function stopByPidFile(pidFile, configFile) {
  return async () => {
    let pid;
    try {
      pid = Number((await readFile(pidFile, 'utf8')).trim());
    } catch {
      return; // never started
    }
    // Only signal the PID if it is still our node process (guards against PID reuse).
    let cmdline = '';
    try {
      cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
    } catch {
      return;
    }
    if (!cmdline.includes(configFile)) return;
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(100);
    if (isAlive(pid)) {
      log(`our agent (pid ${pid}) ignored SIGTERM for 10s; killing it`);
      process.kill(pid, 'SIGKILL');
    }
  };
}

/**
 * Our agent as installed (package.json bin, `node dist/amphora-agent.mjs --config-file FILE`), with every directory it may write under a
 * temp root and init_system = direct. The rest of the configuration mirrors what
 * reference-agent.sh writes for the reference agent (debug, log file, heartbeat target).
 * `settings` ({ section: { option: value } }) adds or overrides options, e.g. the
 * network_namespace of a suite that runs keepalived (see testNamespace()). `nodeArgs` are node's
 * own flags before the script (e.g. `--inspect=127.0.0.1:PORT` for bench/agent-heap.mjs).
 */
export async function ourAgent(ctx, { name = 'ours', settings = {}, netns = null, nodeArgs = [] } = {}) {
  const port = await freePort();
  const home = join(ctx.tmp.dir, `ours-${name}`);
  const root = join(home, 'root');
  const at = (p) => join(root, p);
  for (const d of ['var/lib/octavia/certs', 'etc/octavia/interfaces', 'usr/lib/systemd/system', 'etc/init.d', 'etc/init', 'var/log']) {
    await mkdir(at(d), { recursive: true });
  }
  const { configFile, basePath, logFile } = await writeConfig(ctx, home, at, port, settings);

  const pidFile = join(home, 'agent.pid');
  const stdoutFile = at('var/log/agent.stdout');
  const cli = join(REPO, 'dist', 'amphora-agent.mjs');
  // `exec` makes the shell become node, so $$ is node's PID and measure.py's process group is
  // node's own; the pidfile lets --pid-cmd and our cleanup find it.
  const startCmd =
    `cd ${sh(REPO)} && echo $$ > ${sh(pidFile)} && ` +
    // `ip netns exec` execs the command in place (no fork), so the pid stays node's
    `exec ${netns === null ? '' : `ip netns exec ${sh(netns)} `}${[process.execPath, ...nodeArgs].map(sh).join(' ')} ${sh(cli)} --config-file ${sh(configFile)} >> ${sh(stdoutFile)} 2>&1`;

  const stop = stopByPidFile(pidFile, configFile);
  ctx.cleanup.add(`stop our agent ${name}`, stop);

  return {
    role: 'ours',
    label: `amphora-agent (node ${process.version}, dist/amphora-agent.mjs, init_system=direct)`,
    port,
    baseUrl: `https://127.0.0.1:${port}`,
    configFile,
    basePath,
    logFile,
    startCmd,
    // No stopCmd: measure.py then SIGTERMs the start command's process group, which is node.
    stopCmd: undefined,
    pidCmd: `cat ${sh(pidFile)}`,
    /** Holds node's pid once started (for suites that read its /proc entry). */
    pidFile,
    logFiles: [stdoutFile, logFile],
    async start() {
      assertNotAborted('our agent');
      // Its own session, like under measure.py; stop() finds it through the pidfile.
      spawn('sh', ['-c', startCmd], { detached: true, stdio: 'ignore' }).unref();
      await waitForPort(port, 60_000, netns);
    },
    stop,
  };
}
