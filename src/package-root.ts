/**
 * @module package-root
 * The installed package's root (where package.json and templates/ are), found by walking up
 * from this module: the same answer from src/ (tests), dist/ (tsc output) and the single-file
 * bundle dist/amphora-agent.mjs.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'templates'))) return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the amphora-agent package (package.json and templates/) above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}
