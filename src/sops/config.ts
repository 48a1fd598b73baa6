// `.sops.yaml` creation rules (getsops/sops config/config.go), read so `plumbline secrets encrypt` picks the
// same recipients the sops CLI would: the nearest .sops.yaml above the file, the first rule whose path_regex
// matches the file's path relative to it (a rule without one matches everything).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parseDocument } from 'yaml';
import { parseRecipients } from './age.js';
import { SecretsError } from './errors.js';
import { compileRegex, type EncryptionRules } from './tree.js';

export const SOPS_CONFIG_FILE = '.sops.yaml';

export interface CreationRule {
  readonly recipients: string[];
  readonly rules: EncryptionRules;
  /** The .sops.yaml the rule came from. */
  readonly configFile: string;
}

/** The nearest .sops.yaml in `dir` or a folder above it. */
export function findSopsConfig(dir: string): string | undefined {
  let current = resolve(dir);
  for (;;) {
    const candidate = join(current, SOPS_CONFIG_FILE);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function ageOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** The creation rule for `file`, or undefined when there is no .sops.yaml or no rule matches. */
export function creationRuleFor(file: string): CreationRule | undefined {
  const configFile = findSopsConfig(dirname(resolve(file)));
  if (configFile === undefined) return undefined;
  const doc = parseDocument(readFileSync(configFile, 'utf8'), { prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new SecretsError('malformed', `YAML syntax error: ${doc.errors[0]?.message.split('\n')[0]}`, {
      file: configFile,
      hint: 'fix .sops.yaml',
    });
  }
  const config = doc.toJS({ maxAliasCount: 100 }) as { creation_rules?: unknown } | null;
  const rules = config?.creation_rules;
  if (rules === undefined || rules === null) return undefined;
  if (!Array.isArray(rules)) {
    throw new SecretsError('malformed', 'creation_rules must be a list', {
      file: configFile,
      hint: 'fix .sops.yaml',
    });
  }
  const path = relative(dirname(configFile), resolve(file)).split(sep).join('/');
  for (const [i, raw] of rules.entries()) {
    if (raw === null || typeof raw !== 'object') continue;
    const rule = raw as Record<string, unknown>;
    const pathRegex = str(rule.path_regex);
    if (pathRegex !== undefined && !compileRegex(pathRegex, `creation_rules[${i}].path_regex`).test(path))
      continue;
    let age = ageOf(rule.age);
    if (Array.isArray(rule.key_groups)) {
      if (rule.key_groups.length > 1) {
        throw new SecretsError(
          'unsupported',
          `creation_rules[${i}] splits the key over several key groups (Shamir)`,
          {
            file: configFile,
            hint: 'Plumbline writes files with one key group; list the age recipients under age:',
          },
        );
      }
      age = [...age, ...ageOf((rule.key_groups[0] as Record<string, unknown> | undefined)?.age)];
    }
    let recipients: string[];
    try {
      recipients = parseRecipients(age);
    } catch (error) {
      if (error instanceof SecretsError) {
        throw new SecretsError('malformed', `creation_rules[${i}].age: ${error.detail}`, {
          file: configFile,
          ...(error.hint === undefined ? {} : { hint: error.hint }),
        });
      }
      throw error;
    }
    const encryptionRules: EncryptionRules = {
      ...(str(rule.unencrypted_suffix) === undefined
        ? {}
        : { unencryptedSuffix: str(rule.unencrypted_suffix) }),
      ...(str(rule.encrypted_suffix) === undefined ? {} : { encryptedSuffix: str(rule.encrypted_suffix) }),
      ...(str(rule.unencrypted_regex) === undefined ? {} : { unencryptedRegex: str(rule.unencrypted_regex) }),
      ...(str(rule.encrypted_regex) === undefined ? {} : { encryptedRegex: str(rule.encrypted_regex) }),
      ...(str(rule.unencrypted_comment_regex) === undefined
        ? {}
        : { unencryptedCommentRegex: str(rule.unencrypted_comment_regex) }),
      ...(str(rule.encrypted_comment_regex) === undefined
        ? {}
        : { encryptedCommentRegex: str(rule.encrypted_comment_regex) }),
      ...(rule.mac_only_encrypted === true ? { macOnlyEncrypted: true } : {}),
    };
    return { recipients, rules: encryptionRules, configFile };
  }
  return undefined;
}
