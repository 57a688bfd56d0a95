/**
 * @module bench/lib/proc-cpu
 * CPU time of processes, from /proc/<pid>/stat: utime + stime, and cutime + cstime (what their
 * children used, counted once a child has exited and been waited for), in seconds.
 */
import { readFile } from 'node:fs/promises';
import { runCommand } from './processes.mjs';

let ticksPerSecond;

async function clockTicks() {
  if (ticksPerSecond === undefined) {
    const res = await runCommand('getconf', ['CLK_TCK']);
    const value = Number(res.stdout.trim());
    ticksPerSecond = res.code === 0 && value > 0 ? value : 100;
  }
  return ticksPerSecond;
}

/** { self, children } CPU seconds of `pid`; throws when it is gone. */
export async function processCpu(pid) {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8');
  // fields after the command name, which is in parentheses and may hold spaces: state is field 3
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const field = (n) => Number(rest[n - 3]);
  const hz = await clockTicks();
  return { self: (field(14) + field(15)) / hz, children: (field(16) + field(17)) / hz };
}
