// Errors the HTTP API raises or recognises, and the one mapping from any error to an HTTP status and body.
// Domain code throws these (or src/errors.ts classes); only `httpErrorFor` knows about status codes.
import { ConfigError, InputError, PlumblineError, UsageError } from '../errors.js';

/** An environment, app or token that does not exist. A kind of bad input (exit code 2 on the CLI). */
export class NotFoundError extends InputError {}

/** The request conflicts with the current state (a sync already running, a quarantined revision…). */
export class ConflictError extends InputError {}

export type AuthErrorCode = 'PLUMBLINE_E_UNAUTHORIZED' | 'PLUMBLINE_E_FORBIDDEN';

// Not PlumblineErrors: their codes are outside the CLI's ErrorCode union, and they only exist over HTTP.
/** No token where one is needed, or a token that is not valid. */
export class UnauthorizedError extends Error {
  readonly code: AuthErrorCode = 'PLUMBLINE_E_UNAUTHORIZED';
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.name = 'UnauthorizedError';
    this.hint = hint;
  }
}

/** A valid token whose role is too low for the route. */
export class ForbiddenError extends Error {
  readonly code: AuthErrorCode = 'PLUMBLINE_E_FORBIDDEN';
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.name = 'ForbiddenError';
    this.hint = hint;
  }
}

/** The body every error response has; never a stack, never a cause. */
export interface HttpErrorBody {
  readonly statusCode: number;
  readonly code: string;
  readonly error: string;
  readonly message: string;
  readonly hint?: string;
  readonly requestId: string;
}

export interface HttpError {
  readonly status: number;
  readonly body: Omit<HttpErrorBody, 'requestId'>;
  /** 5xx: log with the stack; the client sees a generic message. */
  readonly internal: boolean;
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

function reasonFor(status: number): string {
  return REASONS[status] ?? (status < 500 ? 'Bad Request' : 'Internal Server Error');
}

function body(status: number, code: string, message: string, hint?: string): HttpError['body'] {
  return hint === undefined
    ? { statusCode: status, code, error: reasonFor(status), message }
    : { statusCode: status, code, error: reasonFor(status), message, hint };
}

/** Fastify's own client errors (validation, bad JSON, wrong content type, body too large) carry a 4xx. */
function fastifyClientStatus(error: unknown): number | undefined {
  if (!(error instanceof Error)) return undefined;
  const statusCode = 'statusCode' in error ? error.statusCode : undefined;
  const code = 'code' in error ? error.code : undefined;
  if (typeof statusCode !== 'number' || statusCode < 400 || statusCode >= 500) return undefined;
  if (typeof code !== 'string' || !code.startsWith('FST_')) return undefined;
  return statusCode;
}

/** The one mapping from an error to an HTTP status and a safe body. */
export function httpErrorFor(error: unknown): HttpError {
  if (error instanceof UnauthorizedError) {
    return { status: 401, body: body(401, error.code, error.message, error.hint), internal: false };
  }
  if (error instanceof ForbiddenError) {
    return { status: 403, body: body(403, error.code, error.message, error.hint), internal: false };
  }
  // Subclasses before their parents: NotFoundError and ConflictError are InputErrors.
  if (error instanceof NotFoundError) {
    return { status: 404, body: body(404, error.code, error.message, error.hint), internal: false };
  }
  if (error instanceof ConflictError) {
    return { status: 409, body: body(409, error.code, error.message, error.hint), internal: false };
  }
  if (error instanceof InputError || error instanceof UsageError || error instanceof ConfigError) {
    return { status: 400, body: body(400, error.code, error.message, error.hint), internal: false };
  }
  const clientStatus = fastifyClientStatus(error);
  if (clientStatus !== undefined && error instanceof Error) {
    // Fastify's messages name the field (`body/role must be equal to one of the allowed values`).
    return {
      status: clientStatus,
      body: body(clientStatus, 'PLUMBLINE_E_INPUT', error.message),
      internal: false,
    };
  }
  const code = error instanceof PlumblineError ? error.code : 'PLUMBLINE_E_INTERNAL';
  return {
    status: 500,
    body: body(
      500,
      code,
      'the server failed to handle this request',
      'see the server log for this request id',
    ),
    internal: true,
  };
}
