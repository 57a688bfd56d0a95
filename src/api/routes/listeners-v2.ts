/**
 * @module api/routes/listeners-v2
 * API 2.0: listeners sent as JSON and rendered by the agent (services/listener-models).
 * PUT installs and answers with the rendered config and its ETag; POST .../validate does
 * everything but install; GET returns the stored model and the installed text; DELETE removes
 * the listener and its processes. `GET /` still answers api_version 1.0 for the controller.
 */
import type { RequestHandler, Response } from 'express';
import { parseUuid } from '../../model/uuid.js';
import type { ListenerAnswer, ListenerModels } from '../../services/listener-models.js';
import { bodyOf } from '../body.js';
import type { Route } from '../route.js';

const param = (value: string | string[] | undefined): string => (Array.isArray(value) ? (value[0] ?? '') : (value ?? ''));

function answer(res: Response, status: number, a: ListenerAnswer): void {
  res.set('ETag', `"${a.rendered.etag}"`).status(status).json(a);
}

export function listenerModelRoutes(models: ListenerModels, raw: RequestHandler): Route[] {
  const id = (req: { params: Record<string, string | string[] | undefined> }) => parseUuid(param(req.params['listenerId']), 'listener id');
  return [
    { method: 'put', path: '/2.0/listeners/:listenerId', handlers: [raw, async (req, res) => answer(res, 200, await models.put(id(req), bodyOf(req)))] },
    { method: 'post', path: '/2.0/listeners/:listenerId/validate', handlers: [raw, async (req, res) => answer(res, 200, await models.validate(id(req), bodyOf(req)))] },
    { method: 'get', path: '/2.0/listeners/:listenerId', handlers: [async (req, res) => answer(res, 200, await models.get(id(req)))] },
    {
      method: 'delete',
      path: '/2.0/listeners/:listenerId',
      handlers: [
        async (req, res) => {
          await models.remove(id(req));
          res.json({ message: 'OK' });
        },
      ],
    },
  ];
}
