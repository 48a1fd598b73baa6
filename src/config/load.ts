// Reads plumbline.yaml. The YAML and schema modules are loaded only when there is a file to parse, so a
// check without configuration (a pre-commit hook, a quick scan) starts fast.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { DEFAULT_CHECK_SPEC } from './defaults.js';
import type { CheckSpec, DocumentKind } from './schema.js';

export const CONFIG_FILE = 'plumbline.yaml';

export interface LoadedDocument {
  readonly kind: DocumentKind;
  readonly name: string;
  /** 1-based line where the document starts. */
  readonly line: number;
  readonly value: unknown;
}

export interface ResolvedConfig {
  /** The file read, or undefined when there was none and defaults apply. */
  readonly file: string | undefined;
  readonly check: CheckSpec;
  readonly documents: readonly LoadedDocument[];
}

const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** Reads and validates a configuration file. A missing file means defaults, unless it was asked for. */
export async function loadConfig(
  file: string,
  options: { required: boolean } = { required: false },
): Promise<ResolvedConfig> {
  let text: string;
  try {
    const bytes = readFileSync(file);
    if (bytes.length > MAX_CONFIG_BYTES) {
      throw new ConfigError(
        file,
        undefined,
        undefined,
        `is ${bytes.length} bytes; the limit is 4 MiB`,
        'is this the right file?',
      );
    }
    if (bytes.includes(0))
      throw new ConfigError(
        file,
        undefined,
        undefined,
        'is a binary file, not YAML',
        'point --config at a YAML file',
      );
    text = bytes.toString('utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !options.required) {
      return deepFreeze({ file: undefined, check: structuredClone(DEFAULT_CHECK_SPEC), documents: [] });
    }
    const why =
      code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder' : `cannot be read (${code})`;
    throw new ConfigError(file, undefined, undefined, why, 'point --config at a readable YAML file');
  }
  const { parseConfig } = await import('./parse.js');
  return deepFreeze(parseConfig(text, file));
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as object)) deepFreeze(child);
  }
  return value;
}
