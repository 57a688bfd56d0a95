/**
 * @module api/routes/plug
 * POST /1.0/plug/vip/{vip} and POST /1.0/plug/network (JSON bodies; a body that is not JSON is
 * the reference's framework 400).
 */
import express, { type RequestHandler } from 'express';
import { parsePlugNetwork, parsePlugVip } from '../../model/plug/requests.js';
import type { Plugs } from '../../services/network/plug.js';
import type { Route } from '../route.js';

/** JSON whatever the Content-Type; unparsable text becomes `undefined`, which the parsers refuse. */
const jsonBody: RequestHandler = (req, res, next) =>
  express.text({ type: () => true, limit: '1mb' })(req, res, () => {
    try {
      req.body = typeof req.body === 'string' && req.body !== '' ? JSON.parse(req.body) : undefined;
    } catch {
      req.body = undefined;
    }
    next();
  });

export function plugRoutes(plugs: Plugs): Route[] {
  return [
    {
      method: 'post',
      path: '/1.0/plug/vip/:vip',
      handlers: [jsonBody, async (req, res) => res.status(202).json({ message: 'OK', details: await plugs.plugVip(parsePlugVip(String(req.params['vip']), req.body)) })],
    },
    {
      method: 'post',
      path: '/1.0/plug/network',
      handlers: [jsonBody, async (req, res) => res.status(202).json({ message: 'OK', details: await plugs.plugNetwork(parsePlugNetwork(req.body)) })],
    },
  ];
}
