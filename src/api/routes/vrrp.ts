/**
 * @module api/routes/vrrp
 * PUT /1.0/vrrp/upload and PUT /1.0/vrrp/{start|stop|reload}.
 */
import type { RequestHandler } from 'express';
import type { Vrrp } from '../../services/vrrp.js';
import { bodyOf, md5Hex } from '../body.js';
import type { Route } from '../route.js';
import { parseAction } from './lvs.js';

export function vrrpRoutes(vrrp: Vrrp, raw: RequestHandler): Route[] {
  return [
    {
      method: 'put',
      path: '/1.0/vrrp/upload',
      handlers: [
        raw,
        async (req, res) => {
          const body = bodyOf(req);
          await vrrp.upload(body);
          res.set('ETag', md5Hex(body)).status(200).json({ message: 'OK' });
        },
      ],
    },
    {
      method: 'put',
      path: '/1.0/vrrp/:action',
      handlers: [
        async (req, res) => {
          const action = parseAction(String(req.params['action'] ?? ''));
          res.status(202).json({ message: 'OK', details: await vrrp.act(action) });
        },
      ],
    },
  ];
}
