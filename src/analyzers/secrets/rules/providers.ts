// Every provider-specific secret rule, group by group: cloud, source hosting and CI, SaaS, AI, keys and URLs.
import type { SecretRule } from '../rule.js';
import { AI_RULES } from './ai.js';
import { CLOUD_RULES } from './cloud.js';
import { KEY_RULES } from './keys.js';
import { SAAS_RULES } from './saas.js';
import { VCS_RULES } from './vcs.js';

export const PROVIDER_RULES: readonly SecretRule[] = [
  ...CLOUD_RULES,
  ...VCS_RULES,
  ...SAAS_RULES,
  ...AI_RULES,
  ...KEY_RULES,
];
