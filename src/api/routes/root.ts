/**
 * @module api/routes/root
 * Version discovery: GET / answers {"api_version":"1.0"}. The controller asks for `//`, which the
 * app's slash merging turns into `/`.
 */
import { API_VERSION } from '../../services/amphora-info.js';
import type { Route } from '../route.js';

export function rootRoutes(): Route[] {
  return [{ method: 'get', path: '/', handlers: [(_req, res) => void res.json({ api_version: API_VERSION })] }];
}
