// The schemas of Plumbline's configuration documents. Types are derived from them (z.infer).
import { z } from 'zod';
import { SEVERITIES } from '../findings/model.js';

export const API_VERSION = 'plumbline.dev/v1alpha1';

export const ANALYZER_NAMES = ['secrets', 'deps'] as const;
export type AnalyzerName = (typeof ANALYZER_NAMES)[number];

const severity = z.enum(SEVERITIES);

const regexString = z.string().superRefine((value, ctx) => {
  try {
    new RegExp(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression (${(error as Error).message})` });
  }
  if (/\(\?[=!<]|\\[1-9]|\(\?[a-z]+\)/i.test(value)) {
    ctx.addIssue({
      code: 'custom',
      message: 'lookaround, backreferences and inline flags are not supported; use caseInsensitive instead',
    });
  }
});

/** `10MiB`, `512KB`, `1.5 MB`, or a number of bytes. */
export const byteSize = z.union([
  z.number().int().positive(),
  z.string().transform((value, ctx) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?\s*$/i.exec(value);
    if (m === null) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not a size; write e.g. 512KiB, 10MiB or 1GB` });
      return z.NEVER;
    }
    const units: Record<string, number> = {
      b: 1,
      kb: 1e3,
      kib: 1024,
      mb: 1e6,
      mib: 1024 ** 2,
      gb: 1e9,
      gib: 1024 ** 3,
    };
    return Math.round(Number(m[1]) * (units[(m[2] ?? 'b').toLowerCase()] ?? 1));
  }),
]);

export const customSecretRuleSchema = z
  .object({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'use lower-case letters, digits and dashes, e.g. acme-api-token'),
    description: z.string().min(1),
    severity: severity.default('high'),
    confidence: z.enum(['high', 'medium', 'low']).default('high'),
    keywords: z
      .array(z.string().min(1).toLowerCase())
      .min(
        1,
        'give at least one keyword that occurs inside every match; the scanner runs patterns only near keywords',
      ),
    pattern: regexString,
    caseInsensitive: z.boolean().default(false),
    secretGroups: z.array(z.number().int().min(0)).optional(),
    entropy: z.number().min(0).max(8).optional(),
    multiline: z.boolean().default(false),
    allow: z
      .object({
        regexes: z.array(regexString).default([]),
        stopwords: z.array(z.string()).default([]),
        paths: z.array(z.string()).default([]),
      })
      .strict()
      .optional(),
    tags: z.array(z.string()).default([]),
    examples: z
      .object({ positive: z.array(z.string()).default([]), negative: z.array(z.string()).default([]) })
      .strict()
      .default({ positive: [], negative: [] }),
  })
  .strict();

export const checkSpecSchema = z
  .object({
    /** Findings at or above this severity fail the check. */
    failOn: severity.default('high'),
    /** Analyzers to run; `--only` narrows this further. */
    analyzers: z
      .array(z.enum(ANALYZER_NAMES))
      .min(1)
      .default([...ANALYZER_NAMES]),
    paths: z
      .object({
        include: z.array(z.string()).default([]),
        exclude: z.array(z.string()).default([]),
      })
      .strict()
      .default({ include: [], exclude: [] }),
    /** Files larger than this are skipped, and the report says so. */
    maxFileSize: byteSize.default(10 * 1024 * 1024),
    deps: z
      .object({
        /** Folder of the advisory store (`plumbline db import`); default $PLUMBLINE_DATA_DIR or ~/.local/share/plumbline. */
        dataDir: z.string().min(1).optional(),
        /** Ask the OSV API instead of the local store. */
        online: z.boolean().default(false),
        osvUrl: z.url().default('https://api.osv.dev'),
        /** Report only vulnerabilities that have a fixed version to upgrade to. */
        fixableOnly: z.boolean().default(false),
        /** Check development-only packages too. */
        includeDev: z.boolean().default(true),
      })
      .strict()
      .default({ online: false, osvUrl: 'https://api.osv.dev', fixableOnly: false, includeDev: true }),
    secrets: z
      .object({
        disableRules: z.array(z.string()).default([]),
        rules: z.array(customSecretRuleSchema).default([]),
        allow: z
          .object({
            paths: z.array(z.string()).default([]),
            regexes: z.array(regexString).default([]),
            stopwords: z
              .array(z.string().min(3, 'a stop word this short would hide real secrets'))
              .default([]),
          })
          .strict()
          .default({ paths: [], regexes: [], stopwords: [] }),
      })
      .strict()
      .default({ disableRules: [], rules: [], allow: { paths: [], regexes: [], stopwords: [] } }),
  })
  .strict();

export const metadataSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, 'use a DNS-style name: lower case, digits, dashes'),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .strict();

export const checkDocumentSchema = z
  .object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal('Check'),
    metadata: metadataSchema.default({ name: 'default' }),
    spec: checkSpecSchema.default(checkSpecSchema.parse({})),
  })
  .strict();

export type CheckSpec = z.infer<typeof checkSpecSchema>;
export type CustomSecretRule = z.infer<typeof customSecretRuleSchema>;
export type CheckDocument = z.infer<typeof checkDocumentSchema>;

/** Every document kind Plumbline reads, by kind: an explicit registry. */
export const DOCUMENT_SCHEMAS = {
  Check: checkDocumentSchema,
} as const;
export type DocumentKind = keyof typeof DOCUMENT_SCHEMAS;
