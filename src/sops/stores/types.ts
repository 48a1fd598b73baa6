// The contract every SOPS file format implements (getsops/sops stores/*): load a plain or an encrypted file
// into tree branches, and write branches back, with the `sops` metadata mapping for an encrypted file.
import type { TreeMap, TreeValue } from '../tree.js';

export type SopsFormat = 'yaml' | 'json' | 'dotenv' | 'binary';

export interface EncryptedFile {
  readonly branches: TreeMap[];
  /** The value of the top-level `sops` key (for dotenv, unflattened from the `sops_` lines). */
  readonly metadata: TreeValue;
  readonly metadataLine: number | undefined;
}

export interface Store {
  readonly format: SopsFormat;
  /** Parses a plain file. `file` is only for messages. */
  loadPlain(input: Buffer, file: string): TreeMap[];
  /** Parses an encrypted file; undefined when it has no `sops` metadata (it is not encrypted). */
  loadEncrypted(input: Buffer, file: string): EncryptedFile | undefined;
  emitPlain(branches: readonly TreeMap[]): Buffer;
  emitEncrypted(branches: readonly TreeMap[], metadata: TreeMap): Buffer;
}

/** The top-level key that holds the metadata, and the prefix of its flattened form in dotenv files. */
export const SOPS_KEY = 'sops';
