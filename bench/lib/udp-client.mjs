/**
 * @module bench/lib/udp-client
 * bench/udp_client.py, which drives an agent through the real Octavia client (one
 * AmphoraAPIClient1_0 call per request): a JSON spec in, a JSON answer out.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertNotAborted, runCommand } from './processes.mjs';
import { REPO, TOOLS } from './shared-tools.mjs';

/**
 * Run bench/udp_client.py (the real Octavia client, see that file) with a JSON spec and return
 * its JSON answer; stderr is echoed with `prefix`.
 */
export async function runUdpClient(ctx, command, spec, prefix = '  [udp_client]') {
  assertNotAborted('udp_client.py');
  const file = join(ctx.tmp.dir, `udp-client-${command}-${Date.now()}.json`);
  await writeFile(file, JSON.stringify({ certs: ctx.pki.dir, amphora_id: ctx.pki.amphoraId, tools: TOOLS, ...spec }));
  const res = await runCommand('/usr/bin/python3', [join(REPO, 'bench', 'udp_client.py'), command, file], { cwd: REPO, prefix });
  let out;
  try {
    out = JSON.parse(res.stdout);
  } catch {
    out = undefined;
  }
  if (res.code !== 0 || out === undefined) {
    throw new Error(`udp_client.py ${command} failed (exit ${res.code}): ${res.stderr.trim().split('\n').slice(-5).join(' | ')}`);
  }
  return out;
}
