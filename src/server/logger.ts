// The controller's logger: pino JSON lines (pretty on a terminal), secrets redacted wherever they would be
// written, and child loggers bound to the environment, app and revision a line is about.
import type { Writable } from 'node:stream';
import { type DestinationStream, type Level, type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

/** Paths pino censors in every line, whatever logged them. */
export const REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-plumbline-token"]',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'token',
  '*.token',
  'password',
  '*.password',
  'secret',
  '*.secret',
];

export const REDACTED = '[redacted]';

export interface LoggerOptions {
  readonly level?: Level | 'silent';
  /** Human-readable lines, only when the destination is stdout and stdout is a terminal. */
  readonly pretty?: boolean;
  /** Where lines go (default stdout); tests pass a stream to read them. */
  readonly destination?: DestinationStream | Writable;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const config = {
    level: options.level ?? 'info',
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    base: { service: 'plumbline' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (options.destination !== undefined) return pino(config, options.destination);
  if (options.pretty === true && process.stdout.isTTY === true) {
    // In-process (not a transport worker): a terminal session is small, and lines stay in order with stderr.
    return pino(
      config,
      pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' }),
    );
  }
  return pino(config);
}

export interface LogScope {
  readonly environment?: string;
  readonly app?: string;
  readonly revision?: string;
}

/** A child logger whose lines carry `{ environment, app, revision }` (only the ones given). */
export function scopedLogger(logger: Logger, scope: LogScope): Logger {
  const bindings: Record<string, string> = {};
  if (scope.environment !== undefined) bindings.environment = scope.environment;
  if (scope.app !== undefined) bindings.app = scope.app;
  if (scope.revision !== undefined) bindings.revision = scope.revision;
  return logger.child(bindings);
}
