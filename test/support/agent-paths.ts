/**
 * @module test/support/agent-paths
 * Where the repository, the shared tools (gen-certs.sh, octavia-client.py) and the built CLI are,
 * for the tiers that run a whole agent. Only paths: nothing here reads or runs them.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/**
 * The shared tools and docs, found as .ci/run finds them: `$AMPHORA_SHARED` when set and not empty
 * (a relative value is taken from the repository root, where .ci/run runs), else `<repo>/../shared`.
 */
export const SHARED_DIR = resolve(REPO_ROOT, process.env['AMPHORA_SHARED'] || join('..', 'shared'));
export const OCTAVIA_REF_DIR = join(SHARED_DIR, 'tools', 'octavia-ref');
/** Runs under bash and needs openssl: a tier that calls makePki lists it with `binaries: ['bash', 'openssl']`. */
export const GEN_CERTS = join(OCTAVIA_REF_DIR, 'gen-certs.sh');
/** Runs under /usr/bin/python3 with python3-octavia: list it with `python: 'octavia'`. */
export const OCTAVIA_CLIENT = join(OCTAVIA_REF_DIR, 'octavia-client.py');
/** The command package.json installs (bin): the single-file bundle of dist/cli.js. */
export const CLI = join(REPO_ROOT, 'dist', 'amphora-agent.mjs');
