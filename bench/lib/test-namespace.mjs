/**
 * @module bench/lib/test-namespace
 * A network namespace of the bench's own for the suites whose agent runs keepalived; removed,
 * with every process left in it, at cleanup.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { log } from './log.mjs';
import { runCommand } from './processes.mjs';

/**
 * A network namespace of our own for our agent's keepalived processes (the agent's option
 * network_namespace), `aat-bench-<random>`: never `amphora-haproxy`, which belongs to a real
 * amphora (the reference agent has its own, inside its sandbox). At cleanup, every process
 * still in it is killed (only what we started can be in it) and it is deleted.
 */
export async function testNamespace(ctx, prefix = 'aat-bench') {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  const add = await runCommand('ip', ['netns', 'add', name]);
  if (add.code !== 0) throw new Error(`ip netns add ${name} failed: ${add.stderr.trim()}`);
  ctx.cleanup.add(`delete network namespace ${name}`, async () => {
    for (let attempt = 0; attempt < 50; attempt++) {
      const pids = (await runCommand('ip', ['netns', 'pids', name])).stdout.split(/\s+/).filter(Boolean).map(Number);
      if (pids.length === 0) break;
      if (attempt === 0) log(`killing ${pids.length} process(es) left in ${name}: ${pids.join(' ')}`);
      for (const pid of pids) {
        try {
          process.kill(pid, attempt < 20 ? 'SIGTERM' : 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await sleep(100);
    }
    const del = await runCommand('ip', ['netns', 'del', name]);
    if (del.code !== 0) throw new Error(`ip netns del ${name} failed: ${del.stderr.trim()}`);
  });
  return name;
}
