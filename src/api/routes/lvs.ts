/**
 * @module api/routes/lvs
 * UDP/SCTP listener routes of API 1.0 (the path keeps Octavia's `udp_listener` name), the
 * start/stop/reload and delete routes shared with haproxy load balancers (dispatched to
 * whatever exists under that id), and the listener list (LVS listeners and the haproxy
 * listeners made through API 2.0).
 */
import type { RequestHandler } from 'express';
import { InvalidInput, NotFound } from '../../model/errors.js';
import { parseUuid } from '../../model/uuid.js';
import type { HaproxyLoadBalancers } from '../../services/haproxy-lbs.js';
import type { ListenerModels } from '../../services/listener-models.js';
import { DAEMON_ACTIONS, type DaemonAction } from '../../services/daemon-service.js';
import type { LvsListeners } from '../../services/lvs-listeners.js';
import { bodyOf, md5Hex } from '../body.js';
import type { Route } from '../route.js';

/** The reference checks the action before anything else, case-insensitively. */
export function parseAction(raw: string): DaemonAction {
  const action = DAEMON_ACTIONS.find((a) => a === raw.toLowerCase());
  if (action === undefined) throw new InvalidInput('Invalid Request', `Unknown action: ${raw}`);
  return action;
}

export const param = (value: string | string[] | undefined): string => (Array.isArray(value) ? (value[0] ?? '') : (value ?? ''));

export function lvsRoutes(lvs: LvsListeners, raw: RequestHandler, models: ListenerModels, haproxy: HaproxyLoadBalancers): Route[] {
  return [
    {
      method: 'put',
      path: '/1.0/listeners/:amphoraId/:listenerId/udp_listener',
      handlers: [
        raw,
        async (req, res) => {
          parseUuid(param(req.params['amphoraId']), 'amphora id');
          const body = bodyOf(req);
          await lvs.upload(parseUuid(param(req.params['listenerId']), 'listener id'), body);
          res.set('ETag', md5Hex(body)).status(200).json({ message: 'OK' });
        },
      ],
    },
    {
      method: 'get',
      path: '/1.0/listeners/:listenerId/udp_listener',
      handlers: [
        async (req, res) => {
          const text = await lvs.read(parseUuid(param(req.params['listenerId']), 'listener id'));
          res.type('text/plain; charset=UTF-8').send(text);
        },
      ],
    },
    {
      method: 'get',
      path: '/1.0/listeners',
      handlers: [async (_req, res) => void res.json([...(await lvs.statuses()), ...(await haproxy.statuses())])],
    },
    {
      method: 'put',
      path: '/1.0/loadbalancer/:objectId/:action',
      handlers: [
        async (req, res) => {
          const action = parseAction(param(req.params['action']));
          const id = parseUuid(param(req.params['objectId']), 'object id');
          if (lvs.has(id)) res.status(202).json({ message: 'OK', details: await lvs.act(id, action) });
          else if (haproxy.has(id)) res.status(202).json({ message: 'OK', details: await haproxy.act(id, action) });
          else throw new NotFound('Loadbalancer Not Found', `No loadbalancer with UUID: ${id}`);
        },
      ],
    },
    {
      method: 'delete',
      path: '/1.0/listeners/:objectId',
      handlers: [
        async (req, res) => {
          // a listener, a listener model or a load balancer: decided under the id's lock
          await models.removeV1(parseUuid(param(req.params['objectId']), 'object id'));
          res.json({ message: 'OK' });
        },
      ],
    },
  ];
}
