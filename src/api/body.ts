/**
 * @module api/body
 * Upload bodies are raw bytes whatever the Content-Type (the controller sends none), limited by
 * `[amphora_agent] max_request_body_bytes` (413 beyond it).
 */
import express, { type Request, type RequestHandler } from 'express';

export function rawBody(limit: () => number): RequestHandler {
  return (req, res, next) => express.raw({ type: () => true, limit: limit() })(req, res, next);
}

export function bodyOf(req: Request): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

/** The reference's ETag: hex MD5 of the raw request body. */
export { md5Hex } from '../services/digest.js';
