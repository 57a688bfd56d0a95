/**
 * @module bench/lib/image-build
 * The two images of the image suite, built by the project's own image build (test/image/lib
 * build.mjs: debian-minimal trixie + vm, qcow2 and tar, one DIB environment, one build at a
 * time on the machine, an image reused while the fingerprint of its inputs is unchanged):
 * - ours: the project's element, as the image test builds it (its default element list);
 * - reference: Debian 13's octavia-agent 16.0.0 through bench/image-elements/octavia-agent-reference.
 * Both elements bring cloud-init with its ConfigDrive datasource through their element-deps.
 */
import { join } from 'node:path';
import { loadImageLib } from './image-lib.mjs';
import { log } from './log.mjs';
import { REPO } from './shared-tools.mjs';

/** Where the built images stay between runs (BENCH_IMAGE_DIR), one folder per image. */
export const IMAGE_DIR = process.env.BENCH_IMAGE_DIR || '/var/tmp/amphora-agent-image';

export const IMAGES = {
  ours: { outDir: join(IMAGE_DIR, 'trixie'), options: {} },
  reference: {
    outDir: join(IMAGE_DIR, 'reference-trixie'),
    options: {
      name: 'octavia-agent-reference-trixie',
      elements: ['octavia-agent-reference'],
      elementsPath: [join(REPO, 'bench', 'image-elements')],
    },
  },
};

/**
 * Builds or reuses one side's image. Answers build.mjs's result: { qcow2, tar, cache
 * ('cold'|'warm'|'reused'), seconds, built_seconds (on reuse), load, dib_version, ... }.
 */
export async function ensureImage(side, { rebuild }) {
  const { buildImage } = await loadImageLib('build.mjs');
  const { outDir, options } = IMAGES[side];
  return buildImage({ release: 'trixie', outDir, force: rebuild, log: (m) => log(`[image ${side}] ${m}`), ...options });
}
