// The Check settings that apply without a plumbline.yaml: the same values the schema's defaults produce
// (a test holds them equal), kept here so a check without configuration need not load zod.
import type { CheckSpec } from './schema.js';

export const DEFAULT_CHECK_SPEC: CheckSpec = {
  failOn: 'high',
  analyzers: ['secrets', 'deps', 'policy'],
  paths: { include: [], exclude: [] },
  maxFileSize: 10 * 1024 * 1024,
  deps: { online: false, osvUrl: 'https://api.osv.dev', fixableOnly: false, includeDev: true },
  secrets: { disableRules: [], rules: [], allow: { paths: [], regexes: [], stopwords: [] } },
};
