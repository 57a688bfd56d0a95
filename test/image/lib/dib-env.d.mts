/**
 * @module test/image/lib/dib-env (types)
 * Types of dib-env.mjs, for the typed test (test/image/dib-env.test.ts); build.mjs uses it untyped.
 */
export interface Dib {
  dir: string;
  elements: string;
  version: string;
}
export interface Mirrors {
  archive: string;
  security: string | undefined;
}
export function installedDib(): Dib;
export function hostMirrors(aptDir?: string): Mirrors;
export function aptSourcesConf(release: string, mirrors: Mirrors): string;
export const NEEDS_BASE_OVERRIDE: Set<string>;
export function deriveBaseElement(dib: Pick<Dib, 'elements' | 'version'>, elementsDir: string): string;
