/**
 * @module test/e2e/guest/lib/systemd
 * Facts about units and processes: a unit's MainPID and ActiveState, a process's comm.
 */
import { readFileSync } from 'node:fs';
import { sh } from './commands.mjs';

export const mainPid = async (unit) => Number((await sh('systemctl', ['show', '-p', 'MainPID', '--value', unit], { allowFail: true })).out.trim() || 0);
export const activeState = async (unit) => (await sh('systemctl', ['show', '-p', 'ActiveState', '--value', unit], { allowFail: true })).out.trim();
export const comm = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
};
