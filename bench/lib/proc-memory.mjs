/**
 * @module bench/lib/proc-memory
 * Memory of processes from /proc: the process tree (pid → parent, command name) read once, the
 * descendants of a process, and Rss, Pss, Pss_Anon and USS (Private_Clean + Private_Dirty) from
 * /proc/<pid>/smaps_rollup, summed over a set of processes; and a process's command line, to tell
 * one keepalived from another.
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

/** Map pid → { ppid, comm } of every process now (one that exits meanwhile is left out). */
export async function processTree() {
  const tree = new Map();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = await readFile(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited
    }
    // the command name is in parentheses and may hold spaces and parentheses: up to the last ')'
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    tree.set(Number(entry), { ppid, comm });
  }
  return tree;
}

/** The NUL-separated command line of `pid`, or '' once it has exited. */
export function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    return '';
  }
}

/** `root` and every process below it in `tree`. */
export function descendants(tree, root) {
  const children = new Map();
  for (const [pid, { ppid }] of tree) {
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(pid);
  }
  const out = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop();
    if (!tree.has(pid)) continue;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

const FIELDS = { Rss: 'rss', Pss: 'pss', Pss_Anon: 'pssAnon', Private_Clean: 'uss', Private_Dirty: 'uss' };

/** { procs, rss, pss, pssAnon, uss } in KiB, summed over `pids` (one that exited meanwhile is not counted). */
export async function memoryOf(pids) {
  const sum = { procs: 0, rss: 0, pss: 0, pssAnon: 0, uss: 0 };
  for (const pid of pids) {
    let text;
    try {
      text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
    } catch {
      continue;
    }
    sum.procs += 1;
    for (const line of text.split('\n')) {
      const m = /^(\w+):\s+(\d+) kB/.exec(line);
      const key = m && FIELDS[m[1]];
      if (key) sum[key] += Number(m[2]);
    }
  }
  return sum;
}
