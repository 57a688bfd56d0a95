/**
 * @module api/routes/agent-config
 * PUT /1.0/config (the controller's `amphora configure`) and PUT /1.0/certificate (rotation).
 */
import type { Request, RequestHandler } from 'express';
import type { TLSSocket } from 'node:tls';
import type { AgentConfigService, ConfigRequester } from '../../services/agent-config.js';
import type { ServerCertificate } from '../../services/server-certificate.js';
import { InvalidInput } from '../../model/errors.js';
import { bodyOf } from '../body.js';
import type { Route } from '../route.js';

/** The client certificate chain the request came with (mutual TLS), client's first; none over plain HTTP. */
function requesterOf(req: Request): ConfigRequester | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const certificates: Buffer[] = [];
  let cert = socket.getPeerCertificate(true);
  while (cert?.raw !== undefined && certificates.length < 10) {
    certificates.push(cert.raw);
    if (cert.issuerCertificate === undefined || cert.issuerCertificate.fingerprint256 === cert.fingerprint256) break;
    cert = cert.issuerCertificate;
  }
  return certificates.length > 0 ? { certificates } : undefined;
}

export function agentConfigRoutes(config: AgentConfigService, certificate: ServerCertificate, raw: RequestHandler): Route[] {
  return [
    {
      method: 'put',
      path: '/1.0/config',
      handlers: [
        raw,
        async (req, res) => {
          const body = bodyOf(req);
          if (body.length === 0) throw new InvalidInput('Invalid configuration', 'the request body is empty');
          const pending = await config.replace(body.toString('utf8'), requesterOf(req));
          const details = pending.length > 0 ? { details: `takes effect at the next restart: ${pending.join(', ')}` } : {};
          res.status(202).json({ message: 'OK', ...details });
        },
      ],
    },
    {
      method: 'put',
      path: '/1.0/certificate',
      handlers: [
        raw,
        async (req, res) => {
          await certificate.rotate(bodyOf(req));
          res.status(202).json({ message: 'OK' });
        },
      ],
    },
  ];
}
