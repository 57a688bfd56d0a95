/**
 * @module api/routes/loadbalancer
 * The haproxy routes of API 1.0: the controller's combined config of a load balancer (upload
 * and read back) and the certificate files that config names. The start/stop/reload and delete
 * routes the load balancer shares with LVS listeners are in routes/lvs.ts. The certificate
 * routes come first: `/1.0/loadbalancer/{lb}/certificates/{name}` has as many segments as
 * `/1.0/loadbalancer/{amp}/{lb}/haproxy`.
 */
import type { RequestHandler } from 'express';
import { parseUuid } from '../../model/uuid.js';
import type { LoadBalancerCertificates } from '../../services/certificates.js';
import type { HaproxyLoadBalancers } from '../../services/haproxy-lbs.js';
import { bodyOf, md5Hex } from '../body.js';
import type { Route } from '../route.js';
import { param } from './lvs.js';

const CERT_PATH = '/1.0/loadbalancer/:lbId/certificates/:filename';

export function loadBalancerRoutes(haproxy: HaproxyLoadBalancers, certificates: LoadBalancerCertificates, raw: RequestHandler): Route[] {
  const lbOf = (value: string | string[] | undefined) => parseUuid(param(value), 'load balancer id');
  return [
    {
      method: 'put',
      path: CERT_PATH,
      handlers: [
        raw,
        async (req, res) => {
          const md5 = await certificates.put(lbOf(req.params['lbId']), param(req.params['filename']), bodyOf(req));
          res.set('ETag', md5).status(200).json({ message: 'OK' });
        },
      ],
    },
    {
      method: 'get',
      path: CERT_PATH,
      handlers: [
        async (req, res) => {
          const md5sum = await certificates.md5(lbOf(req.params['lbId']), param(req.params['filename']));
          res.set('ETag', md5sum).json({ md5sum });
        },
      ],
    },
    {
      method: 'delete',
      path: CERT_PATH,
      handlers: [
        async (req, res) => {
          await certificates.remove(lbOf(req.params['lbId']), param(req.params['filename']));
          res.json({ message: 'OK' });
        },
      ],
    },
    {
      method: 'put',
      path: '/1.0/loadbalancer/:amphoraId/:lbId/haproxy',
      handlers: [
        raw,
        async (req, res) => {
          const body = bodyOf(req);
          await haproxy.upload(parseUuid(param(req.params['amphoraId']), 'amphora id'), lbOf(req.params['lbId']), body);
          // the ETag is the MD5 of what was sent, not of the stored file (group lines go)
          res.set('ETag', md5Hex(body)).status(202).json({ message: 'OK' });
        },
      ],
    },
    {
      method: 'get',
      path: '/1.0/loadbalancer/:lbId/haproxy',
      handlers: [
        async (req, res) => {
          const text = await haproxy.installedConfig(lbOf(req.params['lbId']));
          res.set('ETag', md5Hex(text)).type('text/plain; charset=UTF-8').send(text);
        },
      ],
    },
  ];
}
