/**
 * @module bench/lib/shared-tools
 * Where the repository and the shared octavia-ref tools are (measure.py, gen-certs.sh,
 * reference-agent.sh, octavia-client.py), and the one PKI of a run.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from './processes.mjs';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const TOOLS = process.env.OCTAVIA_REF_TOOLS ?? '/work/shared/tools/octavia-ref';

/** The path of one of the shared tools. */
export const tool = (name) => join(TOOLS, name);

/** One test PKI (gen-certs.sh) that both agents serve and measure.py's client presents. */
export async function makePki(dir) {
  const res = await runCommand(tool('gen-certs.sh'), [dir]);
  if (res.code !== 0) throw new Error(`gen-certs.sh failed (${res.code}):\n${res.stderr}${res.stdout}`);
  const amphoraId = (await readFile(join(dir, 'amphora_id'), 'utf8')).trim();
  return { dir, amphoraId, serverPem: join(dir, 'server.pem'), clientCaPem: join(dir, 'client_ca.pem') };
}
