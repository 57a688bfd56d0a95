/**
 * @module api/app
 * createApp(deps): the Express application, with no sockets and no side effects of its own.
 * Order: merge repeated slashes (the controller sends `//`), log the request, the routes, then
 * 404/405 in the reference's shape and the error mapper.
 */
import express, { type Express, type RequestHandler } from 'express';
import type { Logger } from '../log.js';
import type { AgentConfigService } from '../services/agent-config.js';
import type { AmphoraInfo } from '../services/amphora-info.js';
import type { LoadBalancerCertificates } from '../services/certificates.js';
import type { HaproxyLoadBalancers } from '../services/haproxy-lbs.js';
import type { ListenerModels } from '../services/listener-models.js';
import type { Plugs } from '../services/network/plug.js';
import type { LvsListeners } from '../services/lvs-listeners.js';
import type { ServerCertificate } from '../services/server-certificate.js';
import type { NamespaceInterfaces } from '../services/network/interfaces.js';
import type { VipFirewall } from '../services/network/vip-firewall.js';
import type { Vrrp } from '../services/vrrp.js';
import { rawBody } from './body.js';
import { errorHandler, patternOf, unmatchedRoute } from './errors.js';
import { requestLog } from './request-log.js';
import type { Route } from './route.js';
import { agentConfigRoutes } from './routes/agent-config.js';
import { infoRoutes } from './routes/info.js';
import { interfaceRoutes } from './routes/interfaces.js';
import { listenerModelRoutes } from './routes/listeners-v2.js';
import { plugRoutes } from './routes/plug.js';
import { loadBalancerRoutes } from './routes/loadbalancer.js';
import { lvsRoutes } from './routes/lvs.js';
import { rootRoutes } from './routes/root.js';
import { vrrpRoutes } from './routes/vrrp.js';

export interface AppDeps {
  readonly log: Logger;
  readonly info: AmphoraInfo;
  readonly agentConfig: AgentConfigService;
  readonly certificate: ServerCertificate;
  readonly lvs: LvsListeners;
  readonly vrrp: Vrrp;
  readonly models: ListenerModels;
  readonly haproxy: HaproxyLoadBalancers;
  readonly interfaces: NamespaceInterfaces;
  readonly vipFirewall: VipFirewall;
  readonly plugs: Plugs;
  /** API 1.0: a load balancer's certificate files. */
  readonly lbCertificates: LoadBalancerCertificates;
}

/** Werkzeug merges repeated slashes; so do we, on the path only. */
const mergeSlashes: RequestHandler = (req, _res, next) => {
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  if (path.includes('//')) req.url = path.replace(/\/{2,}/g, '/') + (q < 0 ? '' : req.url.slice(q));
  next();
};

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(mergeSlashes);
  app.use(requestLog(deps.log));

  const raw = rawBody(() => deps.agentConfig.current.amphora_agent.max_request_body_bytes);
  const routes: Route[] = [
    ...rootRoutes(),
    ...infoRoutes(deps.info),
    ...agentConfigRoutes(deps.agentConfig, deps.certificate, raw),
    ...loadBalancerRoutes(deps.haproxy, deps.lbCertificates, raw),
    ...lvsRoutes(deps.lvs, raw, deps.models, deps.haproxy),
    ...listenerModelRoutes(deps.models, raw),
    ...vrrpRoutes(deps.vrrp, raw),
    ...interfaceRoutes(deps.interfaces, deps.vipFirewall, raw),
    ...plugRoutes(deps.plugs),
  ];
  for (const route of routes) app[route.method](route.path, ...route.handlers);

  app.use(unmatchedRoute(routes.map((r) => patternOf(r.method, r.path))));
  app.use(errorHandler(deps.log));
  return app;
}
