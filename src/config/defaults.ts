// The Check settings that apply without a plumbline.yaml: the same values the schema's defaults produce
// (a test holds them equal), kept here so a check without configuration need not load zod.
import type { CheckSpec } from './schema.js';

export const DEFAULT_CHECK_SPEC: CheckSpec = {
  failOn: 'high',
  analyzers: ['secrets'],
  paths: { include: [], exclude: [] },
  maxFileSize: 10 * 1024 * 1024,
  secrets: { disableRules: [], rules: [], allow: { paths: [], regexes: [], stopwords: [] } },
};
