/**
 * @module api/metrics
 * The metrics listener's only route (docs/design/0007-metrics.md): GET /metrics answers one
 * scrape's exposition text. Any other path is a 404 and any other method on /metrics a 405, with
 * a one-line text body, since the readers are scrapers, not the controller. A plain node handler:
 * this listener needs none of the API's router, body parsing or routes, and never reads a body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.js';

export interface MetricsScrape {
  readonly contentType: string;
  scrape(): Promise<string>;
}

function answer(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(`${text}\n`);
}

export function metricsHandler(metrics: MetricsScrape, log: Logger): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '').split('?', 1)[0];
    if (path !== '/metrics') return answer(res, 404, '404 Not Found: this listener serves GET /metrics only');
    if (req.method !== 'GET') return answer(res, 405, '405 Method Not Allowed: GET only', { allow: 'GET' });
    metrics.scrape().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.contentType });
        res.end(text);
      },
      (err: unknown) => {
        log.error({ err }, 'metrics scrape failed');
        answer(res, 500, '500 Internal Server Error: the scrape failed (see the agent log)');
      },
    );
  };
}
