/**
 * @module api/routes/interfaces
 * GET /1.0/interface/{ip}: the namespace interface that holds an address. PUT
 * /1.0/interface/{ip}/rules (Octavia master): the SR-IOV VIP firewall's allow rules. The address
 * is checked before the body (400 "Invalid IP address"), then the body (400 "Invalid rules
 * information"); the lookup's 404 comes from the service.
 */
import type { RequestHandler } from 'express';
import { parseFirewallRules, parseInterfaceAddress } from '../../model/firewall-rules.js';
import type { NamespaceInterfaces } from '../../services/network/interfaces.js';
import type { VipFirewall } from '../../services/network/vip-firewall.js';
import { bodyOf } from '../body.js';
import type { Route } from '../route.js';

const ipParam = (req: { params: Record<string, string | string[] | undefined> }) => {
  const value = req.params['ip'];
  return parseInterfaceAddress(Array.isArray(value) ? (value[0] ?? '') : (value ?? ''));
};

export function interfaceRoutes(interfaces: NamespaceInterfaces, firewall: VipFirewall, raw: RequestHandler): Route[] {
  return [
    {
      method: 'get',
      path: '/1.0/interface/:ip',
      handlers: [async (req, res) => res.json({ message: 'OK', interface: await interfaces.interfaceOf(ipParam(req)) })],
    },
    {
      method: 'put',
      path: '/1.0/interface/:ip/rules',
      handlers: [
        raw,
        async (req, res) => {
          const address = ipParam(req);
          await firewall.setRules(address, parseFirewallRules(bodyOf(req).toString('utf8')));
          res.json({ message: 'OK' });
        },
      ],
    },
  ];
}
