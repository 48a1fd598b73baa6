// Errors of the secrets layer. One class with a stable reason, so the controller can decide from data whether
// a failure is terminal (a bad or tampered file: retrying will not help) or transient (Vault unreachable).
// Messages never carry a secret value: they name the file, line, key path and what to do.
import { PlumblineError } from '../errors.js';

export type SecretsErrorReason =
  /** The file is not valid YAML/JSON/dotenv, or its `sops` metadata is broken. */
  | 'malformed'
  /** The MAC does not match, or a value fails authentication: the file was changed after encryption. */
  | 'tampered'
  /** No age identity was given, or none of them can open the file. */
  | 'no-identity'
  /** The file uses something Plumbline does not implement (Shamir key groups, PGP/KMS only, …). */
  | 'unsupported'
  /** A referenced key is missing from a secrets file or a Vault secret, or is not a plain value. */
  | 'missing-key'
  /** Vault answered 404, or a referenced file does not exist. */
  | 'not-found'
  /** Vault answered 401/403. */
  | 'denied'
  /** Vault could not be reached, timed out or answered 5xx/429: worth retrying. */
  | 'unavailable'
  /** A file over the size limit, or nested too deep. */
  | 'too-large'
  /** Bad options or arguments (a malformed recipient, both --in-place and --output, …). */
  | 'usage';

export class SecretsError extends PlumblineError {
  readonly reason: SecretsErrorReason;
  /** True when retrying later may succeed (Vault unreachable); false for anything in the repository. */
  readonly transient: boolean;
  readonly file: string | undefined;
  readonly line: number | undefined;
  /** The message without its `file:line:` prefix. */
  readonly detail: string;

  constructor(
    reason: SecretsErrorReason,
    message: string,
    options: { hint?: string; file?: string; line?: number; transient?: boolean } = {},
  ) {
    const file = options.file ?? '';
    const where =
      options.line === undefined
        ? file === ''
          ? ''
          : `${file}: `
        : `${file === '' ? 'line ' : `${file}:`}${options.line}: `;
    super(reason === 'usage' ? 'PLUMBLINE_E_USAGE' : 'PLUMBLINE_E_INPUT', `${where}${message}`, {
      ...(options.hint === undefined ? {} : { hint: options.hint }),
    });
    this.reason = reason;
    this.transient = options.transient ?? reason === 'unavailable';
    this.file = options.file;
    this.line = options.line;
    this.detail = message;
  }
}

/** Re-throws `error` with the file (and line) it concerns, unless it already names one. */
export function inFile(error: unknown, file: string): never {
  if (error instanceof SecretsError && error.file === undefined) {
    throw new SecretsError(error.reason, error.detail, {
      file,
      ...(error.line === undefined ? {} : { line: error.line }),
      ...(error.hint === undefined ? {} : { hint: error.hint }),
      transient: error.transient,
    });
  }
  throw error;
}
