/**
 * @module test/e2e/guest/lib/checker-log
 * What keepalived's checker did to listener L1's members during a window of a scenario, read from
 * its log: the members it took out of IPVS or put back, and the checks that failed or timed out.
 * A loss the scenario does not allow is then told apart in the figures: a reload or restart that
 * lost traffic, or a healthy member timed out by a starved checker (issue 14 item 12).
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AGENTS, L1 } from './topology.mjs';

const LOG = join(AGENTS.a.base, 'lvs', `octavia-keepalivedlvs-${L1}.log`);

/** The log's size now: the start of a window. */
export function checkerMark(file = LOG) {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** The checker's moves and failed checks logged since `mark` (lines, without keepalived's date). */
export function checkerSince(mark, file = LOG) {
  let text = '';
  try {
    const size = statSync(file).size;
    if (size > mark) {
      const fd = openSync(file, 'r');
      const buf = Buffer.alloc(size - mark);
      readSync(fd, buf, 0, buf.length, mark);
      closeSync(fd);
      text = buf.toString('utf8');
    }
  } catch {
    return ['(no keepalived log)'];
  }
  return text.split('\n')
    .filter((l) => /(Removing|Adding) service |timed out|failed/.test(l))
    .map((l) => l.replace(/^\w{3} \w{3} +\d+ [\d:]+ \d{4}: /, '').replace(/ by \[[^\]]*udp_check\.sh\]/, '').slice(0, 160));
}
