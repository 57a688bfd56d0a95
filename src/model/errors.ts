/**
 * @module model/errors
 * The agent's error vocabulary, one root (`AgentError`) for every error the agent means to
 * raise: services, the config loader, the view builders and paths throw these; `api/errors.ts` is
 * the only place that turns them into HTTP responses, and anything else is an unexpected 500.
 * Nothing here knows about HTTP objects.
 */

export type AgentErrorCode =
  | 'invalid_input'
  | 'not_found'
  | 'conflict'
  | 'config_rejected'
  | 'command_failed'
  | 'payload_too_large'
  | 'internal';

export class AgentError extends Error {
  readonly code: AgentErrorCode;
  readonly status: number;
  readonly details: string | undefined;

  constructor(code: AgentErrorCode, status: number, message: string, details?: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

/** 400: the request itself is wrong (shape, ids, values). */
export class InvalidInput extends AgentError {
  constructor(message: string, details?: string, cause?: unknown) {
    super('invalid_input', 400, message, details, cause);
  }
}

/** 404: the named object does not exist. */
export class NotFound extends AgentError {
  constructor(message: string, details?: string) {
    super('not_found', 404, message, details);
  }
}

/** 409: the request conflicts with what exists. */
export class Conflict extends AgentError {
  constructor(message: string, details?: string) {
    super('conflict', 409, message, details);
  }
}

/** 400: a real validator (haproxy -c, keepalived -t, the config parser) refused the content. */
export class ConfigRejected extends AgentError {
  constructor(message: string, validatorOutput: string, cause?: unknown) {
    super('config_rejected', 400, message, validatorOutput, cause);
  }
}

/** An agent configuration file or value cannot be used: the message is one line naming it. */
export class ConfigError extends AgentError {
  constructor(problem: string, cause?: unknown) {
    super('config_rejected', 400, problem, undefined, cause);
  }
}

/**
 * 400: a value that would be written into a config, unit, script or path is not safe there.
 * Requests are checked before this point; this is the second check, in the view builders and
 * paths, so that a value missed by the first can never add a directive or leave a directory.
 */
export class UnsafeValue extends AgentError {
  constructor(problem: string) {
    super('invalid_input', 400, problem);
  }
}

/** One rule violation of a listener model: the JSON path of the value and what is wrong. */
export interface Violation {
  readonly path: string;
  readonly message: string;
}

/** 400 listing every violation of a listener model; `details` repeats them one per line for plain clients. */
export class ModelRejected extends AgentError {
  readonly violations: readonly Violation[];

  constructor(violations: readonly Violation[]) {
    super('invalid_input', 400, 'Invalid listener', violations.map((v) => `${v.path}: ${v.message}`).join('\n'));
    this.violations = violations;
  }
}

/** 413: the request body is larger than `[amphora_agent] max_request_body_bytes`. */
export class PayloadTooLarge extends AgentError {
  constructor(limit: number) {
    super('payload_too_large', 413, 'Request body too large', `The limit is ${limit} bytes`);
  }
}

/** 500: a command the agent ran failed. Carries the argv, exit code and output tail. */
export class CommandFailed extends AgentError {
  readonly argv: readonly string[];
  readonly exitCode: number | undefined;
  readonly output: string;

  constructor(argv: readonly string[], exitCode: number | undefined, output: string, message?: string, cause?: unknown) {
    super('command_failed', 500, message ?? `Command failed: ${argv.join(' ')}`, output, cause);
    this.argv = argv;
    this.exitCode = exitCode;
    this.output = output;
  }
}

/**
 * An answer whose body must keep the reference's exact shape because the controller reads it or
 * Octavia's tests pin it: the framework 400 `{error, http_code}` of the plug endpoints and the
 * 404 `{details: "No suitable network interface found"}` that the controller retries on.
 */
export class ReferenceAnswer extends AgentError {
  readonly body: Readonly<Record<string, unknown>>;

  constructor(status: number, code: AgentErrorCode, body: Readonly<Record<string, unknown>>) {
    super(code, status, String(body['error'] ?? body['message'] ?? body['details'] ?? ''));
    this.body = body;
  }
}

/** 500: the boot bring-up left some interfaces down; each problem is named, the others are up. */
export class InterfacesNotUp extends AgentError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('internal', 500, `${problems.length} interface problem(s): ${problems.join('; ')}`, problems.join('\n'));
    this.problems = problems;
  }
}

/** The `interfaces up` CLI needs the namespace, and must not create it: the setup script that does runs the CLI. */
export class NamespaceMissing extends AgentError {
  constructor(namespace: string, setupScript: string) {
    super('internal', 500, `network namespace ${namespace} does not exist: ${setupScript} creates it and then brings the interfaces up`);
  }
}
