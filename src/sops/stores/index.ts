// The explicit registry of SOPS file formats, and how a file's name chooses one (as the sops CLI does).
import { SecretsError } from '../errors.js';
import { dotenvStore } from './dotenv.js';
import { binaryStore, jsonStore } from './json.js';
import type { SopsFormat, Store } from './types.js';
import { yamlStore } from './yaml.js';

export type { EncryptedFile, SopsFormat, Store } from './types.js';

export const STORES: Readonly<Record<SopsFormat, Store>> = {
  yaml: yamlStore,
  json: jsonStore,
  dotenv: dotenvStore,
  binary: binaryStore,
};

export const SOPS_FORMATS = Object.keys(STORES) as SopsFormat[];

/** `.yaml`/`.yml` → yaml, `.json` → json, `.env` → dotenv, anything else → binary (the whole file, opaque). */
export function formatForPath(path: string): SopsFormat {
  const lower = path.toLowerCase();
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return 'yaml';
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.env') || lower.endsWith('/.env') || lower === '.env') return 'dotenv';
  return 'binary';
}

export function parseFormat(value: string): SopsFormat {
  const v = value.toLowerCase();
  if (v === 'yml') return 'yaml';
  if (v === 'env') return 'dotenv';
  if ((SOPS_FORMATS as string[]).includes(v)) return v as SopsFormat;
  throw new SecretsError('usage', `unknown format "${value}"`, {
    hint: `use one of: ${SOPS_FORMATS.join(', ')}`,
  });
}

export function storeFor(format: SopsFormat): Store {
  return STORES[format];
}
