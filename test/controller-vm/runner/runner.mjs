#!/usr/bin/env node
/**
 * The controller-VM tier's scenario runner, run by run.mjs inside the controller's namespace (where
 * octavia-api answers on 127.0.0.1:9876). For each agent kind of the plan (the amphora VMs the
 * launcher boots from then on run that agent: $STATE/agent-kind), its scenarios in turn; writes
 * {scenarios: {name: {kind: {status, seconds, failures, figures}}}} to $CVM_RESULTS.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PLAN, STATE, log } from './lib/context.mjs';
import { Scenario } from './lib/results.mjs';
import { activeStandby } from './scenarios/active-standby.mjs';
import { single } from './scenarios/single.mjs';

const RUN = { single, active_standby: activeStandby };
const results = { scenarios: {} };
const save = () => writeFileSync(process.env.CVM_RESULTS, JSON.stringify(results));

for (const [kind, names] of Object.entries(PLAN)) {
  writeFileSync(join(STATE, 'agent-kind'), `${kind}\n`);
  for (const name of names) {
    log(`== ${name} with ${kind === 'ts' ? 'our agent' : 'the reference agent'}`);
    const s = new Scenario(name, kind);
    let error = null;
    try {
      await RUN[name](s);
    } catch (err) {
      error = err;
      log(`  stopped: ${err.stack}`);
    }
    (results.scenarios[name] ??= {})[kind] = s.result(error);
    log(`== ${name}/${kind}: ${results.scenarios[name][kind].status} in ${results.scenarios[name][kind].seconds} s`);
    save();
  }
}
save();
process.exit(0);
