// `kind: AnalysisTemplate`: metrics that judge a revision, each with a provider, a schedule, CEL conditions
// and limits. The zod schema checks everything that can be checked before a rollout (conditions compile and
// read only known variables, placeholders name known variables, a JSONPath parses); parseAnalysisTemplates
// reads the templates of an environment's folder with file:line errors, all of them collected.
import { type Document, isNode, LineCounter, parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { durationSchema } from '../../gitops/duration.js';
import { compileCondition } from './cel.js';
import { parseJsonPath } from './jsonpath.js';
import { BUILTIN_VARIABLES, placeholdersIn } from './placeholders.js';

export const ROUTER_QUERIES = [
  'success-rate',
  'error-rate',
  'request-count',
  'latency-p50',
  'latency-p90',
  'latency-p95',
  'latency-p99',
] as const;
export type RouterQuery = (typeof ROUTER_QUERIES)[number];

export const COMPARISON_METRICS = ['error-rate', 'latency'] as const;
export type ComparisonMetric = (typeof COMPARISON_METRICS)[number];

export const NO_DATA_POLICIES = ['fail', 'pass', 'inconclusive'] as const;
export type NoDataPolicy = (typeof NO_DATA_POLICIES)[number];

/** The defaults of a comparison metric (README "Analysis: judging a rollout" explains them). */
export const COMPARISON_DEFAULTS = {
  minSamples: 50,
  confidence: 0.95,
  margin: { 'error-rate': 0.02, latency: 0.1 },
} as const;

const HOUR = 3_600_000;

// Not imported from config/schema.ts, which will register this kind: the two modules would import each other.
// schema.test.ts holds these equal to config/schema.ts's.
export const API_VERSION = 'plumbline.dev/v1alpha1';

/** A DNS label, as config/schema.ts's dnsLabel. */
const dnsLabel = z
  .string()
  .max(63, 'at most 63 characters (a DNS label)')
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'use a DNS-style name: lower case, digits, dashes, e.g. web-api');

const metadataSchema = z.strictObject({
  name: dnsLabel,
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** An http(s) URL without credentials (they do not belong in Git); placeholders allowed. */
const httpUrl = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    // Placeholders are filled at run time; a stand-in lets the rest be checked now.
    url = new URL(value.replace(/\{\{[^}]*\}\}/g, 'x'));
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a URL; write e.g. http://127.0.0.1:9090` });
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: `"${url.protocol}" is not http: or https:` });
  }
  if (url.username !== '' || url.password !== '') {
    ctx.addIssue({
      code: 'custom',
      message: 'take the credentials out of the URL: in a template they would be in Git and in logs',
    });
  }
});

const routerProviderSchema = z.strictObject({
  /** Over the window since the previous measurement; latencies in seconds. */
  query: z.enum(ROUTER_QUERIES, {
    error: `choose one of: ${ROUTER_QUERIES.join(', ')}`,
  }),
});

const prometheusProviderSchema = z
  .strictObject({
    address: httpUrl,
    /** PromQL, instant query; `{{revision}}` etc. are escaped for the string literal they stand in. */
    query: z.string().min(1, 'write a PromQL query'),
    timeout: durationSchema(100, 5 * 60_000).prefault('10s'),
  })
  .transform(({ timeout, ...rest }) => ({ ...rest, timeoutMs: timeout }));

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const webProviderSchema = z
  .strictObject({
    url: httpUrl,
    method: z.enum(['GET', 'POST', 'PUT']).default('GET'),
    headers: z
      .record(z.string(), z.string())
      .superRefine((headers, ctx) => {
        for (const [name, value] of Object.entries(headers)) {
          if (!HEADER_NAME.test(name)) {
            ctx.addIssue({ code: 'custom', path: [name], message: 'not an HTTP header name' });
          }
          if (/[\r\n\0]/.test(value)) {
            ctx.addIssue({
              code: 'custom',
              path: [name],
              message: 'a header value cannot hold a line break',
            });
          }
        }
      })
      .default({}),
    /** Sent as application/json; placeholders are escaped as inside a JSON string. */
    body: z.string().optional(),
    /** Where the result is in the JSON answer: `$`, `.name`, `["name"]`, `[0]` steps. */
    jsonPath: z.string().superRefine((value, ctx) => {
      const parsed = parseJsonPath(value);
      if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.message });
    }),
    timeout: durationSchema(100, 5 * 60_000).prefault('10s'),
  })
  .superRefine((web, ctx) => {
    if (web.body !== undefined && web.method === 'GET') {
      ctx.addIssue({
        code: 'custom',
        path: ['method'],
        message: 'a request with a body needs method: POST or PUT',
      });
    }
  })
  .transform(({ timeout, ...rest }) => ({ ...rest, timeoutMs: timeout }));

const comparisonProviderSchema = z.strictObject({
  metric: z.enum(COMPARISON_METRICS, { error: `choose one of: ${COMPARISON_METRICS.join(', ')}` }),
  /** Requests each revision needs in the window before a verdict. */
  minSamples: z.int().min(10, 'at least 10: the tests are approximations that need data').max(1e9).optional(),
  /** 1 − the chance of failing a canary that is no worse, over all the looks of the metric. */
  confidence: z.number().min(0.5).max(0.9999).default(COMPARISON_DEFAULTS.confidence),
  /**
   * How much worse the canary may be and still pass: an absolute error-rate increase (0.02 = 2 points), or for
   * latency how far above 0.5 the chance that a canary request is slower than a stable one may be.
   */
  margin: z.number().gt(0).max(0.5).optional(),
});

const providerSchema = z
  .strictObject({
    router: routerProviderSchema.optional(),
    prometheus: prometheusProviderSchema.optional(),
    web: webProviderSchema.optional(),
    comparison: comparisonProviderSchema.optional(),
  })
  .superRefine((provider, ctx) => {
    const chosen = Object.entries(provider).filter(([, value]) => value !== undefined);
    if (chosen.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          chosen.length === 0
            ? 'choose a provider: router, prometheus, web or comparison'
            : `choose one provider, not ${chosen.map(([key]) => key).join(' and ')}`,
      });
    }
  })
  .transform((provider) => {
    if (provider.router !== undefined) return { kind: 'router' as const, ...provider.router };
    if (provider.prometheus !== undefined) return { kind: 'prometheus' as const, ...provider.prometheus };
    if (provider.web !== undefined) return { kind: 'web' as const, ...provider.web };
    const comparison = provider.comparison;
    // superRefine made sure one provider is set; a failed refinement never reaches this transform.
    if (comparison === undefined) throw new Error('no provider');
    return {
      kind: 'comparison' as const,
      metric: comparison.metric,
      minSamples: comparison.minSamples ?? COMPARISON_DEFAULTS.minSamples,
      confidence: comparison.confidence,
      margin: comparison.margin ?? COMPARISON_DEFAULTS.margin[comparison.metric],
    };
  });

const limit = (fallback: number) => z.int().min(0).max(1_000_000).default(fallback);

export const analysisMetricSchema = z
  .strictObject({
    name: dnsLabel,
    /** Time between measurements; needed when count is more than 1. */
    interval: durationSchema(100, 24 * HOUR).optional(),
    /** Measurements to take (errors are retried and do not count). */
    count: z.int().min(1).max(10_000).default(1),
    /** Wait this long before the first measurement. */
    initialDelay: durationSchema(0, 24 * HOUR).optional(),
    successCondition: z.string().min(1).optional(),
    failureCondition: z.string().min(1).optional(),
    /** Failed measurements tolerated; one more fails the metric. */
    failureLimit: limit(0),
    /** Errors in a row tolerated; one more makes the metric Error. */
    consecutiveErrorLimit: limit(4),
    /** Inconclusive measurements tolerated; one more makes the metric Inconclusive (the rollout pauses). */
    inconclusiveLimit: limit(0),
    /** What a measurement without data is: a canary that received no traffic must not pass silently. */
    noData: z.enum(NO_DATA_POLICIES, { error: 'choose fail, pass or inconclusive' }).default('inconclusive'),
    provider: providerSchema,
  })
  .superRefine((metric, ctx) => {
    if (metric.count > 1 && metric.interval === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['interval'],
        message: `${metric.count} measurements need an interval between them, e.g. interval: 10s`,
      });
    }
    const windowed = metric.provider.kind === 'router' || metric.provider.kind === 'comparison';
    if (windowed && metric.interval === undefined && metric.count === 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['interval'],
        message: `a ${metric.provider.kind} metric measures the traffic of each interval: give one, e.g. interval: 30s`,
      });
    }
    const comparison = metric.provider.kind === 'comparison';
    if (!comparison && metric.successCondition === undefined && metric.failureCondition === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['successCondition'],
        message: 'give a successCondition or a failureCondition, e.g. successCondition: "result >= 0.99"',
      });
    }
    const allowed = comparison ? ['result', 'canary', 'stable'] : ['result'];
    for (const field of ['successCondition', 'failureCondition'] as const) {
      const expr = metric[field];
      if (expr === undefined) continue;
      const compiled = compileCondition(expr, allowed);
      if (!compiled.ok) ctx.addIssue({ code: 'custom', path: [field], message: compiled.message });
    }
  })
  .transform(({ interval, initialDelay, ...rest }) => ({
    ...rest,
    intervalMs: interval ?? 0,
    initialDelayMs: initialDelay ?? 0,
  }));

const argSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z][\w-]*$/, 'use letters, digits, _ and -, starting with a letter'),
  /** The default; the rollout can pass another. */
  value: z.string().optional(),
});

export const analysisTemplateSpecSchema = z
  .strictObject({
    args: z.array(argSchema).default([]),
    metrics: z.array(analysisMetricSchema).min(1, 'give at least one metric'),
  })
  .superRefine((spec, ctx) => {
    const names = new Set<string>();
    spec.metrics.forEach((metric, index) => {
      if (names.has(metric.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['metrics', index, 'name'],
          message: `"${metric.name}" is used twice`,
        });
      }
      names.add(metric.name);
    });
    const argNames = new Set(spec.args.map((arg) => arg.name));
    const known = new Set<string>([...BUILTIN_VARIABLES, ...[...argNames].map((name) => `args.${name}`)]);
    const check = (text: string | undefined, path: (string | number)[], intervalMs: number): void => {
      if (text === undefined) return;
      for (const name of placeholdersIn(text)) {
        if (name === 'interval' && intervalMs === 0) {
          ctx.addIssue({
            code: 'custom',
            path,
            message: '{{interval}} needs the metric to have an interval',
          });
        } else if (!known.has(name)) {
          ctx.addIssue({
            code: 'custom',
            path,
            message: `unknown placeholder {{${name}}}; use ${[...known].map((k) => `{{${k}}}`).join(', ')}${
              name.startsWith('args.') ? ' (declare arguments under spec.args)' : ''
            }`,
          });
        }
      }
    };
    spec.metrics.forEach((metric, index) => {
      const at = ['metrics', index, 'provider'];
      const provider = metric.provider;
      const interval = metric.intervalMs;
      if (provider.kind === 'prometheus') {
        check(provider.address, [...at, 'prometheus', 'address'], interval);
        check(provider.query, [...at, 'prometheus', 'query'], interval);
      } else if (provider.kind === 'web') {
        check(provider.url, [...at, 'web', 'url'], interval);
        check(provider.body, [...at, 'web', 'body'], interval);
        for (const [name, value] of Object.entries(provider.headers)) {
          check(value, [...at, 'web', 'headers', name], interval);
        }
      }
    });
  });

export const analysisTemplateDocumentSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('AnalysisTemplate'),
  metadata: metadataSchema,
  spec: analysisTemplateSpecSchema,
});

export type AnalysisTemplateDocument = z.output<typeof analysisTemplateDocumentSchema>;
export type AnalysisMetric = z.output<typeof analysisMetricSchema>;
export type MetricProvider = AnalysisMetric['provider'];

/** A template and where it was read from. */
export interface AnalysisTemplate extends AnalysisTemplateDocument {
  readonly source: { readonly file: string; readonly line: number };
}

export interface ParsedTemplates {
  /** By metadata.name; only templates without problems. */
  readonly templates: ReadonlyMap<string, AnalysisTemplate>;
  readonly problems: readonly ConfigError[];
}

/**
 * The AnalysisTemplate documents of some YAML files (an environment's folder): other kinds are left for their
 * own readers. Every problem is a ConfigError naming the file, line and field; none is thrown.
 */
export function parseAnalysisTemplates(sources: readonly { file: string; text: string }[]): ParsedTemplates {
  const templates = new Map<string, AnalysisTemplate>();
  const problems: ConfigError[] = [];
  for (const { file, text } of sources) {
    const lineCounter = new LineCounter();
    const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
    if (!Array.isArray(docs)) continue; // an empty stream
    const lineOf = (offset: number): number => lineCounter.linePos(offset).line;
    for (const doc of docs) {
      const firstError = doc.errors[0];
      if (firstError !== undefined) {
        problems.push(
          new ConfigError(
            file,
            lineOf(firstError.pos[0]),
            undefined,
            `YAML syntax error: ${firstError.message.split('\n')[0]}`,
            'fix the YAML syntax at that line (indentation, quotes, a missing colon)',
          ),
        );
        break; // the rest of the file cannot be trusted
      }
      if (doc.contents === null) continue;
      const docLine = lineOf(doc.contents.range[0]);
      let raw: unknown;
      try {
        raw = doc.toJS({ maxAliasCount: 100 });
      } catch (error) {
        problems.push(
          new ConfigError(file, docLine, undefined, `cannot be expanded: ${(error as Error).message}`),
        );
        continue;
      }
      if (raw === null || typeof raw !== 'object' || (raw as { kind?: unknown }).kind !== 'AnalysisTemplate')
        continue;
      const result = analysisTemplateDocumentSchema.safeParse(raw);
      if (!result.success) {
        for (const issue of result.error.issues) {
          const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
          let message = issue.message;
          if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) {
            path.push(issue.keys[0]);
            message = 'unknown field: check its spelling and indentation, or remove it';
          }
          problems.push(
            new ConfigError(
              file,
              lineAt(doc, path, lineOf) ?? docLine,
              path.length > 0 ? formatPath(path) : undefined,
              message,
              'see "Analysis: judging a rollout" in the README, or run `plumbline schema`',
            ),
          );
        }
        continue;
      }
      const name = result.data.metadata.name;
      const first = templates.get(name);
      if (first !== undefined) {
        problems.push(
          new ConfigError(
            file,
            lineAt(doc, ['metadata', 'name'], lineOf) ?? docLine,
            'metadata.name',
            `analysis template "${name}" is already defined at ${first.source.file}:${first.source.line}`,
            'give each template of an environment its own name',
          ),
        );
        continue;
      }
      templates.set(name, { ...result.data, source: { file, line: docLine } });
    }
  }
  return { templates, problems };
}

/** The line of the deepest node that exists along `path` (a missing field points at its parent). */
function lineAt(
  doc: Document,
  path: readonly (string | number)[],
  lineOf: (offset: number) => number,
): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) return lineOf(node.range[0]);
  }
  return undefined;
}

function formatPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
