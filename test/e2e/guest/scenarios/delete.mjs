/**
 * @module test/e2e/guest/scenarios/delete
 * Scenario `delete`: every listener of both agents (B only when it runs) is deleted: unit
 * files, enable links, configs, pid files and logs gone, units unknown to systemd, no
 * keepalived left, IPVS tables empty, /1.0/listeners empty.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sh } from '../lib/commands.mjs';
import { call } from '../lib/controller.mjs';
import { ipvs } from '../lib/ipvs.mjs';
import { ensureL1, forgetL1 } from '../lib/listener-l1.mjs';
import { copyKeepalivedLogs } from '../lib/logs.mjs';
import { activeState } from '../lib/systemd.mjs';
import { AGENTS, lvsUnit } from '../lib/topology.mjs';

export async function scenarioDelete(s) {
  await ensureL1();
  // Agent B runs only after the ACTIVE_STANDBY scenario (asking a stopped agent would make the
  // controller retry for a minute).
  const running = [];
  for (const name of ['a', 'b']) if ((await activeState(`${AGENTS[name].agentUnit}.service`)) === 'active') running.push(name);
  const present = [];
  for (const name of running) {
    const ls = await call(name, 'get_all_listeners');
    s.check(ls.ok, `GET /1.0/listeners on ${name} failed: ${ls.error}`);
    for (const l of ls.body ?? []) present.push([name, l.uuid]);
  }
  s.fig('listeners_before', present.map(([n, id]) => `${n}:${id}`));
  copyKeepalivedLogs(); // deleting a listener removes its log
  for (const [name, id] of present) {
    const d = await call(name, 'delete_listener', id);
    s.check(d.ok, `DELETE ${id} on ${name} failed: ${d.error}`);
  }
  await sleep(500);
  for (const [name, id] of present) {
    const a = AGENTS[name];
    const unit = lvsUnit(a, id);
    s.check(!existsSync(join(a.unitDir, `${unit}.service`)), `${unit}.service still exists`);
    s.check(!existsSync(`/etc/systemd/system/multi-user.target.wants/${unit}.service`), `${unit} is still enabled`);
    const load = (await sh('systemctl', ['show', '-p', 'LoadState', '--value', unit], { allowFail: true })).out.trim();
    s.check(load === 'not-found', `${unit} LoadState=${load}`);
    const left = readdirSync(join(a.base, 'lvs')).filter((f) => f.includes(id));
    s.check(left.length === 0, `files left for ${id}: ${left.join(', ')}`);
    const procs = (await sh('pgrep', ['-af', `keepalivedlvs-${id}`], { allowFail: true })).out.trim();
    s.check(procs === '', `keepalived still running for ${id}: ${procs}`);
  }
  for (const name of running) {
    const a = AGENTS[name];
    const table = await ipvs(a.ns);
    s.fig(`ipvs_${name}_after`, table);
    s.check(table.length === 0, `IPVS in ${a.ns} is not empty: ${JSON.stringify(table)}`);
    const ls = await call(name, 'get_all_listeners');
    if (ls.ok) s.check(Array.isArray(ls.body) && ls.body.length === 0, `GET /1.0/listeners on ${name} is not empty: ${JSON.stringify(ls.body)}`);
  }
  forgetL1();
}
