/**
 * @module test/support/rejection
 * `rejectionOf`: the AgentError a promise rejects with, for tests that assert on its class,
 * status and words. Anything else it rejects with is rethrown, and a promise that resolves fails
 * the test: a refusal the agent never made must not pass.
 */
import { AgentError } from '../../src/model/errors.js';

export async function rejectionOf(p: Promise<unknown>): Promise<AgentError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AgentError) return err;
    throw err;
  }
  throw new Error('it was accepted');
}
