/**
 * @module test/image/lib/inputs-hash (types)
 * Types of inputs-hash.mjs, for the typed test (test/image/dib-env.test.ts).
 */
export interface HashInputs {
  release: string;
  dibVersion: string;
  elements: string[];
  elementDirs: string[];
  scriptFiles: string[];
  lockFile?: string | undefined;
  nodeTarball?: string | undefined;
  extra?: Record<string, string | number>;
}
export function inputsHash(inputs: HashInputs): { hash: string; parts: string[] };
