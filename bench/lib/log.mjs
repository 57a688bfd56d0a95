/**
 * @module bench/lib/log
 * What the bench says on stderr: progress lines (`bench: ...`) and, after a failure, the last
 * lines of an agent's log files. stdout is left to the report (run.mjs).
 */
import { readFileSync } from 'node:fs';

export function log(msg) {
  process.stderr.write(`bench: ${msg}\n`);
}

export function tail(file, lines = 15) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return undefined;
  }
}

/** Print the tails of an agent's logs to stderr (after a failure). */
export function showLogTails(agent, lines = 15) {
  for (const f of agent.logFiles) {
    const t = tail(f, lines);
    if (t) log(`last lines of ${f}:\n${t}`);
  }
}
