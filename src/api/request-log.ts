/**
 * @module api/request-log
 * One JSON log line per request: method, path, status, duration and request id. The id comes
 * from a well-formed X-Request-Id header or is generated, and is echoed back.
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../log.js';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestLog(log: Logger): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    const given = req.get('x-request-id');
    const reqId = given && SAFE_ID.test(given) ? given : randomUUID();
    res.locals['reqId'] = reqId;
    res.set('X-Request-Id', reqId);
    res.on('finish', () => {
      log.info(
        { reqId, method: req.method, path: req.path, status: res.statusCode, ms: Math.round((performance.now() - started) * 100) / 100 },
        'request',
      );
    });
    next();
  };
}
