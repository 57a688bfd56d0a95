/**
 * @module bench/lib/shared-tools
 * Where the repository and the shared octavia-ref tools are (measure.py, gen-certs.sh,
 * reference-agent.sh, octavia-client.py), and the one PKI of a run. The tools are found as
 * .ci/run finds them: `$AMPHORA_SHARED/tools/octavia-ref`, where AMPHORA_SHARED defaults to
 * `../shared` beside the repository; OCTAVIA_REF_TOOLS, when set, names the tools directory
 * itself.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from './processes.mjs';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
/** Like .ci/run's `${AMPHORA_SHARED:-$(cd .. && pwd)/shared}`: an empty value counts as unset. */
export const SHARED = process.env.AMPHORA_SHARED || resolve(REPO, '..', 'shared');
export const TOOLS = process.env.OCTAVIA_REF_TOOLS ?? join(SHARED, 'tools', 'octavia-ref');

/** The path of one of the shared tools. */
export const tool = (name) => join(TOOLS, name);

/** One test PKI (gen-certs.sh) that both agents serve and measure.py's client presents. */
export async function makePki(dir) {
  const res = await runCommand(tool('gen-certs.sh'), [dir]);
  if (res.code !== 0) throw new Error(`gen-certs.sh failed (${res.code}):\n${res.stderr}${res.stdout}`);
  const amphoraId = (await readFile(join(dir, 'amphora_id'), 'utf8')).trim();
  return { dir, amphoraId, serverPem: join(dir, 'server.pem'), clientCaPem: join(dir, 'client_ca.pem') };
}
