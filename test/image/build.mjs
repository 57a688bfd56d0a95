#!/usr/bin/env node
/**
 * @module test/image/build
 * Command line of the image build (lib/build.mjs): builds the amphora image of a Debian release
 * from the project's element, or reuses the last one when its inputs did not change, and ends
 * with one line
 *   IMAGE-BUILD {json}
 * Exit status: 0 built or reused; 1 the build failed (the last lines of DIB's log are printed).
 *
 * usage: node test/image/build.mjs [--release trixie|bookworm] [--out DIR] [--force]
 *                                  [--node-tarball FILE] [--timeout SEC] [--cache-dir DIR]
 *   --out        default /var/tmp/amphora-agent-image/<release>/
 *   --force      build even when the inputs match the last image
 *   --timeout    hard limit of the build in seconds (default 900; waiting for another build not counted)
 *   --cache-dir  DIB's cache (default ~/.cache/image-create); an empty folder gives a cold build
 *   bookworm needs --node-tarball (or DIB_AMPHORA_AGENT_NODE_TARBALL): its nodejs is 18.
 */
import { parseArgs } from 'node:util';
import { buildImage, DEFAULT_TIMEOUT_SECONDS } from './lib/build.mjs';

const { values: opts } = parseArgs({
  options: {
    release: { type: 'string', default: 'trixie' },
    out: { type: 'string' },
    force: { type: 'boolean', default: false },
    'node-tarball': { type: 'string' },
    timeout: { type: 'string' },
    'cache-dir': { type: 'string' },
  },
});
const started = Date.now();
const log = (msg) => process.stdout.write(`[image-build ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);

try {
  const result = await buildImage({
    release: opts.release,
    outDir: opts.out,
    force: opts.force,
    nodeTarball: opts['node-tarball'] ?? (process.env.DIB_AMPHORA_AGENT_NODE_TARBALL || undefined),
    timeoutSeconds: Number(opts.timeout ?? DEFAULT_TIMEOUT_SECONDS),
    ...(opts['cache-dir'] ? { cacheDir: opts['cache-dir'] } : {}),
    log,
  });
  log(`${result.cache === 'reused' ? 'reused' : `built (${result.cache} cache) in ${result.seconds} s`}: ${result.qcow2} (${result.qcow2_bytes} bytes), ${result.tar} (${result.rootfs_bytes} bytes)`);
  const { inputs, checks, ...summary } = result;
  process.stdout.write(`IMAGE-BUILD ${JSON.stringify({ ok: true, ...summary, checks_failed: checks.filter((c) => !c.ok).length, inputs: inputs.hash })}\n`);
} catch (err) {
  process.stderr.write(`image build failed: ${err.message}\n`);
  process.stdout.write(`IMAGE-BUILD ${JSON.stringify({ ok: false, release: opts.release, error: err.message.split('\n')[0] })}\n`);
  process.exitCode = 1;
}
