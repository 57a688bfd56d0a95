/**
 * @module api/routes/agent-config
 * PUT /1.0/config (the controller's `amphora configure`) and PUT /1.0/certificate (rotation).
 */
import type { RequestHandler } from 'express';
import type { AgentConfigService } from '../../services/agent-config.js';
import type { ServerCertificate } from '../../services/server-certificate.js';
import { InvalidInput } from '../../model/errors.js';
import { bodyOf } from '../body.js';
import type { Route } from '../route.js';

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
          const pending = await config.replace(body.toString('utf8'));
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
