/**
 * @module api/errors
 * The one place where errors become HTTP responses. Agent errors answer
 * `{message, details?, code}` (the controller reads only the status); unknown routes and methods
 * answer in the reference's framework shape `{error, http_code}`; anything unexpected is a 500,
 * logged once here with pino's err serializer.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../log.js';
import { AgentError, ModelRejected, PayloadTooLarge, ReferenceAnswer } from '../model/errors.js';

export const NOT_FOUND_TEXT =
  '404 Not Found: The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.';
export const METHOD_NOT_ALLOWED_TEXT = '405 Method Not Allowed: The method is not allowed for the requested URL.';

export interface RoutePattern {
  readonly method: string;
  readonly regex: RegExp;
}

/** `/1.0/listeners/:id` → /^\/1\.0\/listeners\/[^/]+$/ */
export function patternOf(method: string, path: string): RoutePattern {
  const source = path
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return { method: method.toUpperCase(), regex: new RegExp(`^${source}$`) };
}

/** Last handler: 405 when the path exists for another method, else 404. */
export function unmatchedRoute(patterns: readonly RoutePattern[]): RequestHandler {
  return (req, res) => {
    const allowed = patterns.filter((p) => p.regex.test(req.path)).map((p) => p.method);
    if (allowed.length > 0) {
      res.set('Allow', [...new Set([...allowed, allowed.includes('GET') ? 'HEAD' : '', 'OPTIONS'])].filter(Boolean).join(', '));
      res.status(405).json({ error: METHOD_NOT_ALLOWED_TEXT, http_code: 405 });
      return;
    }
    res.status(404).json({ error: NOT_FOUND_TEXT, http_code: 404 });
  };
}

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    let error = err;
    const parser = err as BodyParserError;
    if (parser?.type === 'entity.too.large') error = new PayloadTooLarge(parser.limit ?? 0);
    if (error instanceof ReferenceAnswer) {
      res.status(error.status).json(error.body);
      return;
    }
    if (error instanceof AgentError) {
      if (error.status >= 500) log.error({ err: error, reqId: res.locals['reqId'] }, error.message);
      res.status(error.status).json({
        message: error.message,
        ...(error.details === undefined ? {} : { details: error.details }),
        code: error.code,
        // API 2.0: every violation of a listener model, each with its JSON path
        ...(error instanceof ModelRejected ? { violations: error.violations } : {}),
      });
      return;
    }
    if (typeof parser?.status === 'number' && parser.status >= 400 && parser.status < 500) {
      res.status(parser.status).json({ message: 'Invalid request', details: (err as Error).message, code: 'invalid_input' });
      return;
    }
    log.error({ err, reqId: res.locals['reqId'], path: req.path }, 'unhandled error');
    res.status(500).json({ message: 'Internal Server Error', details: err instanceof Error ? err.message : String(err), code: 'internal' });
  };
}
