/**
 * @module api/route
 * A route as data, so that the app can both register it and answer 405 for its path.
 */
import type { RequestHandler } from 'express';

export interface Route {
  readonly method: 'get' | 'put' | 'post' | 'delete';
  readonly path: string;
  readonly handlers: readonly RequestHandler[];
}
