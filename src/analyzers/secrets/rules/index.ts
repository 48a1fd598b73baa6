// Every built-in secret rule, in one explicit list: provider formats first, generic credentials last.
import type { SecretRule } from '../rule.js';
import { GENERIC_RULES } from './generic.js';
import { PROVIDER_RULES } from './providers.js';

export const BUILTIN_RULES: readonly SecretRule[] = [...PROVIDER_RULES, ...GENERIC_RULES];
