/**
 * @module api/routes/info
 * GET /1.0/info and GET /1.0/details.
 */
import type { AmphoraInfo } from '../../services/amphora-info.js';
import type { Route } from '../route.js';

export function infoRoutes(info: AmphoraInfo): Route[] {
  return [
    { method: 'get', path: '/1.0/info', handlers: [async (_req, res) => void res.json(await info.info())] },
    { method: 'get', path: '/1.0/details', handlers: [async (_req, res) => void res.json(await info.details())] },
  ];
}
