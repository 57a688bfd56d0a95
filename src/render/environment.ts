/**
 * @module render/environment
 * The one nunjucks Environment. Not HTML: no autoescaping (escaping would not stop newline
 * injection anyway; values are ConfigTokens checked by the view builders). Undefined values
 * are errors. Pure apart from reading templates/ once per template.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';
import type nunjucksTypes from 'nunjucks';

/** templates/ at the package root. */
export const templatesDir = (): string => join(packageRoot(), 'templates');

let env: nunjucksTypes.Environment | undefined;

export function templates(): nunjucksTypes.Environment {
  if (env === undefined) {
    // nunjucks (CommonJS) is loaded when the first template is rendered, not at agent startup.
    const nunjucks = createRequire(import.meta.url)('nunjucks') as typeof nunjucksTypes;
    env = new nunjucks.Environment(new nunjucks.FileSystemLoader(templatesDir(), { noCache: false }), {
      autoescape: false,
      throwOnUndefined: true,
      trimBlocks: true,
      lstripBlocks: true,
    });
  }
  return env;
}

export function render(template: string, view: object): string {
  return templates().render(template, view);
}
