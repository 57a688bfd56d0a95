/**
 * @module bench/lib/image-lib
 * Where the image suite finds the project's image build and boot code (test/image/lib:
 * build.mjs, config-drive.mjs, qemu.mjs, agent-https.mjs), so that both images are built and
 * booted by the same code as the image test's. BENCH_IMAGE_LIB names another folder holding
 * those files (e.g. links to branches' worktrees before they are merged).
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO } from './shared-tools.mjs';

export const IMAGE_LIB = process.env.BENCH_IMAGE_LIB || join(REPO, 'test', 'image', 'lib');

/** The named modules of the image library, merged into one namespace object. */
export async function loadImageLib(...names) {
  try {
    const mods = await Promise.all(names.map((n) => import(pathToFileURL(resolve(IMAGE_LIB, n)).href)));
    return Object.assign({}, ...mods);
  } catch (err) {
    throw new Error(`the image library is not usable at ${IMAGE_LIB} (set BENCH_IMAGE_LIB): ${err.message}`);
  }
}
