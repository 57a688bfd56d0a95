import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { silentLogger } from '../log.js';
import { AgentConfigService } from './agent-config.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function service() {
  const dir = await mkdtemp(join(tmpdir(), 'agent-config-'));
  dirs.push(dir);
  const file = join(dir, 'amphora-agent.conf');
  const text = '[health_manager]\nheartbeat_interval = 10\n';
  await writeFile(file, text);
  return { file, config: new AgentConfigService([file], parseConfig([{ path: file, text }]), silentLogger()) };
}

const withInterval = (n: number) => `[health_manager]\nheartbeat_interval = ${n}\n`;

describe('AgentConfigService.replace', () => {
  it('applies concurrent replacements one at a time, so the file and the running agent agree on the last', async () => {
    const { file, config } = await service();
    // the first request's check is slow: without serialization the second overtakes it and
    // the first, finishing last, wins the file or the applied config but not always both
    config.check(async (next) => {
      if (next.health_manager.heartbeat_interval === 3) await new Promise((r) => setTimeout(r, 50));
    });
    const order: number[] = [];
    config.onChange((next) => {
      order.push(next.health_manager.heartbeat_interval);
    });
    await Promise.all([config.replace(withInterval(3)), config.replace(withInterval(7))]);
    expect(order).toEqual([3, 7]);
    expect(config.current.health_manager.heartbeat_interval).toBe(7);
    expect(await readFile(file, 'utf8')).toBe(withInterval(7));
  });

  it('a rejected replacement does not block the next one', async () => {
    const { file, config } = await service();
    const first = config.replace('[health_manager]\nheartbeat_interval = nope\n');
    const second = config.replace(withInterval(4));
    await expect(first).rejects.toThrow();
    await second;
    expect(config.current.health_manager.heartbeat_interval).toBe(4);
    expect(await readFile(file, 'utf8')).toBe(withInterval(4));
  });
});
