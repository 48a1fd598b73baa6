// The schemas of Plumbline's configuration documents. Types are derived from them (z.infer).
import { posix } from 'node:path';
import { z } from 'zod';
import { SEVERITIES } from '../findings/model.js';
import { durationSchema } from '../gitops/duration.js';
import { analysisTemplateDocumentSchema } from '../rollouts/analysis/schema.js';
import { strategyIssues, strategySchema } from '../rollouts/strategy.js';

export const API_VERSION = 'plumbline.dev/v1alpha1';

export const ANALYZER_NAMES = ['secrets', 'deps', 'policy'] as const;
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

// --- GitOps: Environment (in the repository's plumbline.yaml) and App (in the environment's folder) ---

/** A DNS label: what an app or environment is called in URLs, hostnames and process names. */
export const dnsLabel = z
  .string()
  .max(63, 'at most 63 characters (a DNS label)')
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'use a DNS-style name: lower case, digits, dashes, e.g. web-api');

const gitopsMetadataSchema = metadataSchema.extend({ name: dnsLabel }).strict();

/** A path inside the repository: relative, normalised (`./a/../b/` → `b`, `` → `.`), never escaping it. */
export const repoPathSchema = z.string().transform((value, ctx) => {
  const slashed = value.trim().replaceAll('\\', '/');
  if (
    slashed.includes('\0') ||
    slashed.startsWith('/') ||
    /^[A-Za-z]:/.test(slashed) ||
    slashed.startsWith('~')
  ) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" must be a path relative to the repository root, e.g. apps/web`,
    });
    return z.NEVER;
  }
  const normal = posix.normalize(slashed === '' ? '.' : slashed).replace(/\/+$/, '') || '.';
  if (normal === '..' || normal.startsWith('../')) {
    ctx.addIssue({ code: 'custom', message: `"${value}" leaves the repository; use a path inside it` });
    return z.NEVER;
  }
  return normal;
});

/**
 * A webhook for rollout events: `generic` posts the event as JSON, `slack` as an incoming-webhook `{ text }`.
 * The URL is written in Git (`url`) or, when it is a credential like Slack's, named by an environment
 * variable of the controller (`urlEnv`).
 */
export const notificationSchema = z
  .object({
    webhook: z
      .object({
        url: z
          .url({
            protocol: /^https?$/,
            error: 'write an http(s) URL, e.g. https://hooks.example.com/plumbline',
          })
          .optional(),
        urlEnv: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name, e.g. SLACK_WEBHOOK_URL')
          .optional(),
        format: z.enum(['generic', 'slack']).default('generic'),
      })
      .strict()
      .superRefine((webhook, ctx) => {
        if ((webhook.url === undefined) === (webhook.urlEnv === undefined)) {
          ctx.addIssue({
            code: 'custom',
            message: 'give exactly one of url or urlEnv (the controller variable holding the URL)',
          });
        }
      }),
  })
  .strict();
export type NotificationSpec = z.infer<typeof notificationSchema>;

export const environmentSpecSchema = z
  .object({
    /** The folder of App documents for this environment, relative to the repository root. */
    path: repoPathSchema,
    /** Where the apps run. Only `local` (processes on this host) exists today. */
    target: z
      .object({ local: z.object({}).strict().optional() })
      .strict()
      .refine((target) => target.local !== undefined, 'choose where the apps run: local: {}')
      .prefault({ local: {} }),
    sync: z
      .object({
        /** Apply new commits without asking (`plumbline up`); off: only `plumbline sync ENV` applies. */
        auto: z.boolean().default(true),
        /** Delete apps that are no longer in Git. */
        prune: z.boolean().default(false),
        /** Put back what drifted from Git (a crashed or edited process) without a new commit. */
        selfHeal: z.boolean().default(false),
        /** How often to poll the repository (webhooks come sooner). */
        interval: durationSchema(1_000, 24 * 3_600_000).prefault('1m'),
      })
      .strict()
      .transform(({ interval, ...rest }) => ({ ...rest, intervalMs: interval }))
      .prefault({}),
    /** Where rollout events (steps, verdicts, promotions, rollbacks, pins) are posted. */
    notifications: z.array(notificationSchema).max(20).optional(),
  })
  .strict();

export const environmentDocumentSchema = z
  .object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal('Environment'),
    metadata: gitopsMetadataSchema,
    spec: environmentSpecSchema,
  })
  .strict();

const ENV_VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A key of a SOPS file in the repository: { file: secrets/web.sops.yaml, key: db_password }. */
export const fileSecretRefSchema = z
  .object({
    file: repoPathSchema,
    key: z.string().min(1, 'name the key of the secrets file, e.g. key: db_password'),
  })
  .strict();

/** A key of a Vault KV v2 secret: { vault: { path: secret/data/web, key: password } }. */
export const vaultSecretRefSchema = z
  .object({
    vault: z
      .object({
        path: z
          .string()
          .regex(/^[^/\s]+\/\S+$/, 'write the KV v2 path as <mount>/data/<path>, e.g. secret/data/web'),
        key: z.string().min(1, 'name the key of the Vault secret, e.g. key: password'),
      })
      .strict(),
  })
  .strict();

export type SecretRefDocument = z.infer<typeof fileSecretRefSchema> | z.infer<typeof vaultSecretRefSchema>;

const ENV_VALUE_HELP =
  'environment values are strings: quote numbers and booleans, e.g. "8080"; or reference a secret: { secretRef: { file: secrets/web.sops.yaml, key: db_password } } or { secretRef: { vault: { path: secret/data/web, key: password } } }';

/**
 * An environment value: a string, or `{ secretRef: … }`. Checked by hand rather than with a zod union, so a
 * mistake inside a reference is reported at its own field with its own message, not as "Invalid input".
 */
const envValueSchema = z
  .unknown()
  .transform((value, ctx): string | { secretRef: SecretRefDocument } => {
    if (typeof value === 'string') return value;
    const isObject = (v: unknown): v is Record<string, unknown> =>
      typeof v === 'object' && v !== null && !Array.isArray(v);
    if (!isObject(value) || !('secretRef' in value)) {
      ctx.addIssue({ code: 'custom', message: ENV_VALUE_HELP });
      return z.NEVER;
    }
    const extra = Object.keys(value).find((k) => k !== 'secretRef');
    if (extra !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [extra],
        message: 'unknown field: a secret reference has only secretRef',
      });
      return z.NEVER;
    }
    const ref = value.secretRef;
    if (!isObject(ref)) {
      ctx.addIssue({ code: 'custom', path: ['secretRef'], message: ENV_VALUE_HELP });
      return z.NEVER;
    }
    const result = ('vault' in ref ? vaultSecretRefSchema : fileSecretRefSchema).safeParse(ref);
    if (!result.success) {
      for (const issue of result.error.issues) {
        const path = ['secretRef', ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
        if (issue.code === 'unrecognized_keys') {
          ctx.addIssue({
            code: 'custom',
            path: [...path, issue.keys[0] ?? ''],
            message: 'unknown field: a secretRef has file and key, or vault with path and key',
          });
        } else {
          const missing = issue.code === 'invalid_type' && issue.input === undefined;
          ctx.addIssue({
            code: 'custom',
            path,
            message: missing
              ? `missing: ${ENV_VALUE_HELP.slice(ENV_VALUE_HELP.indexOf('reference'))}`
              : issue.message,
          });
        }
      }
      return z.NEVER;
    }
    return { secretRef: result.data };
  })
  .meta({
    description: ENV_VALUE_HELP,
    anyOf: [
      { type: 'string' },
      {
        type: 'object',
        additionalProperties: false,
        required: ['secretRef'],
        properties: {
          secretRef: {
            anyOf: [
              {
                type: 'object',
                additionalProperties: false,
                required: ['file', 'key'],
                properties: { file: { type: 'string' }, key: { type: 'string', minLength: 1 } },
              },
              {
                type: 'object',
                additionalProperties: false,
                required: ['vault'],
                properties: {
                  vault: {
                    type: 'object',
                    additionalProperties: false,
                    required: ['path', 'key'],
                    properties: { path: { type: 'string' }, key: { type: 'string', minLength: 1 } },
                  },
                },
              },
            ],
          },
        },
      },
    ],
  });

export const appSpecSchema = z
  .object({
    process: z
      .object({
        /** The program and its arguments, run without a shell. */
        command: z
          .array(z.string().min(1))
          .min(1, 'give the program and its arguments, e.g. ["node", "server.js"]'),
        /** Relative to the repository root, at the revision being deployed. */
        cwd: repoPathSchema.prefault('.'),
        /** Strings, or `{ secretRef: … }`; references come out in `secretRefs` (see the transform below). */
        env: z
          .record(z.string(), envValueSchema)
          .superRefine((env, ctx) => {
            for (const name of Object.keys(env)) {
              if (!ENV_VAR_NAME.test(name)) {
                ctx.addIssue({
                  code: 'custom',
                  path: [name],
                  message: 'not an environment variable name: use letters, digits and _, e.g. API_URL',
                });
              }
            }
          })
          .default({}),
      })
      .strict()
      // Secret references leave `env` for `secretRefs`: `env` keeps only plain strings, so nothing that shows,
      // diffs or passes `env` on can mistake a reference for a value; the controller resolves `secretRefs`
      // (src/sops createSecretResolver) into the instances' environment. The field is absent without any.
      .transform(({ env, ...rest }) => {
        const plain: Record<string, string> = {};
        const secretRefs: Record<string, SecretRefDocument> = {};
        for (const [name, value] of Object.entries(env)) {
          if (typeof value === 'string') plain[name] = value;
          else secretRefs[name] = value.secretRef;
        }
        return Object.keys(secretRefs).length === 0
          ? { ...rest, env: plain }
          : { ...rest, env: plain, secretRefs };
      }),
    /** Where the router serves this app on this host. */
    port: z.number().int().min(1).max(65535),
    replicas: z.number().int().min(0).max(100).default(1),
    health: z
      .object({
        http: z
          .object({ path: z.string().startsWith('/', 'an HTTP path starts with /, e.g. /healthz') })
          .strict()
          .prefault({ path: '/' }),
        interval: durationSchema(100, 3_600_000).prefault('5s'),
        timeout: durationSchema(50, 600_000).prefault('2s'),
      })
      .strict()
      .superRefine((health, ctx) => {
        if (health.timeout > health.interval) {
          ctx.addIssue({
            code: 'custom',
            path: ['timeout'],
            message: 'must not be longer than the interval',
          });
        }
      })
      .transform(({ http, interval, timeout }) => ({ http, intervalMs: interval, timeoutMs: timeout }))
      .prefault({}),
    /** Apps that must be healthy before this one starts (and that it is stopped before). */
    dependsOn: z
      .array(dnsLabel)
      .default([])
      .superRefine((names, ctx) => {
        const seen = new Set<string>();
        names.forEach((name, index) => {
          if (seen.has(name))
            ctx.addIssue({ code: 'custom', path: [index], message: `"${name}" is listed twice` });
          seen.add(name);
        });
      }),
    /** How a new revision replaces the serving one: a canary or blue-green (src/rollouts/strategy.ts). */
    strategy: strategySchema.optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.strategy === undefined) return;
    for (const issue of strategyIssues(spec.strategy, spec)) {
      ctx.addIssue({ code: 'custom', path: ['strategy', ...issue.path], message: issue.message });
    }
  });

export const appDocumentSchema = z
  .object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal('App'),
    metadata: gitopsMetadataSchema,
    spec: appSpecSchema,
  })
  .strict();

export type EnvironmentSpec = z.infer<typeof environmentSpecSchema>;
export type EnvironmentDocument = z.infer<typeof environmentDocumentSchema>;
export type AppSpecDocument = z.infer<typeof appSpecSchema>;
export type AppDocument = z.infer<typeof appDocumentSchema>;

/** Every document kind Plumbline reads, by kind: an explicit registry. */
export const DOCUMENT_SCHEMAS = {
  Check: checkDocumentSchema,
  Environment: environmentDocumentSchema,
  App: appDocumentSchema,
  AnalysisTemplate: analysisTemplateDocumentSchema,
} as const;
export type DocumentKind = keyof typeof DOCUMENT_SCHEMAS;
