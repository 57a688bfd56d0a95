/**
 * @module render/environment
 * The one nunjucks Environment. Not HTML: no autoescaping (escaping would not stop newline
 * injection anyway; values are ConfigTokens checked by the view builders). Undefined values
 * are errors. Pure apart from reading templates/ once per template.
 */
import { fileURLToPath } from 'node:url';
import nunjucks from 'nunjucks';

/** templates/ at the package root, from src/render (tests) or dist/render (built). */
export const TEMPLATES_DIR = fileURLToPath(new URL('../../templates', import.meta.url));

let env: nunjucks.Environment | undefined;

export function templates(): nunjucks.Environment {
  env ??= new nunjucks.Environment(new nunjucks.FileSystemLoader(TEMPLATES_DIR, { noCache: false }), {
    autoescape: false,
    throwOnUndefined: true,
    trimBlocks: true,
    lstripBlocks: true,
  });
  return env;
}

export function render(template: string, view: object): string {
  return templates().render(template, view);
}
