// The router's event log: one JSON line per event (time, level, event, fields), written synchronously so a
// line is never lost when the process exits right after it.
import { writeSync } from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type RouterLog = (level: LogLevel, event: string, fields?: Readonly<Record<string, unknown>>) => void;

/** A log that drops everything (the default in-process, and in tests). */
export function silentLog(): void {}

/** Writes each event as a JSON line to a file descriptor (2, stderr, by default). */
export function jsonLog(fd = 2): RouterLog {
  return function log(level, event, fields = {}) {
    const line = JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }, errorReplacer);
    try {
      writeSync(fd, `${line}\n`);
    } catch {
      // A closed stderr must not take the router down.
    }
  };
}

/** Errors become their message and code: no stack traces in the log. */
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as NodeJS.ErrnoException).code;
    return code === undefined ? { message: value.message } : { message: value.message, code };
  }
  return value;
}
