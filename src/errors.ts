// A small error hierarchy with stable codes. The CLI maps them to exit codes in one place (cli/exit.ts).

export type ErrorCode =
  | 'PLUMBLINE_E_USAGE'
  | 'PLUMBLINE_E_CONFIG'
  | 'PLUMBLINE_E_INPUT'
  | 'PLUMBLINE_E_NOT_A_GIT_REPO'
  | 'PLUMBLINE_E_GIT'
  | 'PLUMBLINE_E_INTERNAL';

export class PlumblineError extends Error {
  readonly code: ErrorCode;
  /** What the user should do next, printed after the message. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** Bad flags or arguments. */
export class UsageError extends PlumblineError {
  constructor(message: string, hint?: string) {
    super('PLUMBLINE_E_USAGE', message, hint === undefined ? {} : { hint });
  }
}

/** A configuration file that does not parse or validate. `file:line` are part of the message. */
export class ConfigError extends PlumblineError {
  readonly file: string;
  readonly line: number | undefined;
  readonly field: string | undefined;
  constructor(
    file: string,
    line: number | undefined,
    field: string | undefined,
    message: string,
    hint?: string,
  ) {
    const where = line === undefined ? file : `${file}:${line}`;
    const what = field === undefined ? message : `${field}: ${message}`;
    super('PLUMBLINE_E_CONFIG', `${where}: ${what}`, hint === undefined ? {} : { hint });
    this.file = file;
    this.line = line;
    this.field = field;
  }
}

/** Input the user pointed us at that we cannot use (a missing path, a bad baseline file, …). */
export class InputError extends PlumblineError {
  constructor(message: string, hint?: string) {
    super('PLUMBLINE_E_INPUT', message, hint === undefined ? {} : { hint });
  }
}

export class NotAGitRepoError extends PlumblineError {
  constructor(path: string, what: string) {
    super('PLUMBLINE_E_NOT_A_GIT_REPO', `${path} is not inside a Git repository, so ${what} cannot run`, {
      hint: 'run it inside a Git work tree, or drop the Git-only flag to scan the folder as plain files',
    });
  }
}

export class GitError extends PlumblineError {
  constructor(message: string, hint?: string) {
    super('PLUMBLINE_E_GIT', message, hint === undefined ? {} : { hint });
  }
}

export const EXIT = { ok: 0, findings: 1, usage: 2, internal: 3 } as const;

/** The one mapping from errors to process exit codes. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof PlumblineError)
    return error.code === 'PLUMBLINE_E_INTERNAL' ? EXIT.internal : EXIT.usage;
  return EXIT.internal;
}
