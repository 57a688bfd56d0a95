/**
 * @module system/init/detect
 * Chooses the init adapter: the configured `[amphora_agent] init_system`, or with `auto` what
 * PID 1 is (read once from `<proc_dir>/1/comm`): systemd; `init` is upstart when
 * `/sbin/init --version` says so and sysvinit otherwise; anything else (a container's or this
 * CI's PID 1) gets the `direct` adapter instead of the reference's "unknown init system" 500.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../log.js';
import type { AgentConfig } from '../../config/schema.js';
import type { ProcessRunner } from '../exec.js';
import type { Paths } from '../paths.js';
import { DirectInit } from './direct.js';
import { SystemdInit } from './systemd.js';
import { SysvInit } from './sysvinit.js';
import type { InitKind, InitSystem, UnitRenderer } from './types.js';
import { UpstartInit } from './upstart.js';

export async function detectInitKind(config: AgentConfig, runner: ProcessRunner, log: Logger): Promise<InitKind> {
  const configured = config.amphora_agent.init_system;
  if (configured !== 'auto') return configured;
  let comm = '';
  try {
    comm = (await readFile(join(config.amphora_agent.proc_dir, '1', 'comm'), 'utf8')).trim();
  } catch (err) {
    log.warn({ err }, 'cannot read PID 1 name; supervising daemons directly');
    return 'direct';
  }
  if (comm === 'systemd') return 'systemd';
  if (comm === 'init') {
    const r = await runner.run('/sbin/init', ['--version'], { allowFailure: true });
    return r.output.includes('upstart') ? 'upstart' : 'sysvinit';
  }
  log.warn({ pid1: comm }, 'PID 1 is no init system this agent knows; supervising daemons directly');
  return 'direct';
}

/** Every kind has an adapter; the Record makes a missing one a compile error. */
export function createInitSystem(kind: InitKind, config: AgentConfig, runner: ProcessRunner, paths: Paths, log: Logger, units: UnitRenderer): InitSystem {
  const adapters: Record<InitKind, () => InitSystem> = {
    systemd: () => new SystemdInit(runner, paths, units),
    sysvinit: () => new SysvInit(runner, paths, config.amphora_agent.sysvinit_dir, log, units),
    upstart: () => new UpstartInit(runner, paths, units),
    direct: () => new DirectInit(runner, paths),
  };
  return adapters[kind]();
}
