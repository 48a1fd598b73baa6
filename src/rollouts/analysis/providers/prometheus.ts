// `prometheus`: an instant PromQL query over the HTTP API (GET /api/v1/query). A scalar or a one-sample vector
// is a number, a longer vector a list of numbers; an empty vector or NaN is no data; an error answer, a range
// vector or a timeout is a measurement error.
import { renderPromQL } from '../placeholders.js';
import type { MetricProvider } from '../schema.js';
import { callJson, describeUrl } from './http.js';
import type { Observation, ProviderDefinition } from './types.js';

type PrometheusProvider = Extract<MetricProvider, { kind: 'prometheus' }>;

export const prometheusProvider: ProviderDefinition<PrometheusProvider> = {
  windowed: false,
  requires: () => undefined,
  create({ provider, vars }) {
    return {
      async measure(_look, signal): Promise<Observation> {
        const query = renderPromQL(provider.query, vars);
        const address = renderAddress(provider.address, vars);
        const url = `${address.replace(/\/+$/, '')}/api/v1/query?query=${encodeURIComponent(query)}`;
        const answer = await callJson({ url, timeoutMs: provider.timeoutMs, signal });
        return readAnswer(answer.status, answer.json, answer.text, describeUrl(url));
      },
    };
  },
};

function renderAddress(address: string, vars: ReadonlyMap<string, string>): string {
  return address.replace(/\{\{\s*([\w.-]+)\s*\}\}/g, (_all, name: string) =>
    encodeURIComponent(vars.get(name) ?? ''),
  );
}

/** The answer of /api/v1/query as an observation; exported for the unit tests of each result type. */
export function readAnswer(status: number, json: unknown, text: string, where: string): Observation {
  if (!isRecord(json)) {
    throw new Error(
      `${where} answered HTTP ${status} with something not JSON: ${JSON.stringify(text.slice(0, 80))}`,
    );
  }
  if (json.status !== 'success') {
    const type = typeof json.errorType === 'string' ? json.errorType : `HTTP ${status}`;
    const message = typeof json.error === 'string' ? json.error : 'no message';
    throw new Error(`Prometheus refused the query (${type}): ${message}`);
  }
  const data = json.data;
  if (!isRecord(data)) throw new Error(`${where} answered without data`);
  switch (data.resultType) {
    case 'scalar': {
      const value = sampleValue(data.result);
      return Number.isNaN(value)
        ? { kind: 'noData', message: 'the query gave NaN' }
        : { kind: 'value', value };
    }
    case 'vector': {
      if (!Array.isArray(data.result)) throw new Error(`${where} answered a vector without samples`);
      const values = data.result
        .map((sample: unknown) => (isRecord(sample) ? sampleValue(sample.value) : Number.NaN))
        .filter((value) => !Number.isNaN(value));
      if (values.length === 0) {
        return {
          kind: 'noData',
          message:
            data.result.length === 0 ? 'the query matched no series' : 'every sample of the query was NaN',
        };
      }
      return { kind: 'value', value: values.length === 1 ? values[0] : values };
    }
    case 'matrix':
      throw new Error('the query gave a range vector; write an instant query (e.g. wrap it in rate(…[1m]))');
    default:
      throw new Error(`the query gave a ${String(data.resultType)}, not a number`);
  }
}

/** `[ <time>, "<value>" ]` → the value; Prometheus writes infinities as +Inf and -Inf. */
function sampleValue(pair: unknown): number {
  if (!Array.isArray(pair) || typeof pair[1] !== 'string') return Number.NaN;
  const text = pair[1];
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return text.trim() === '' ? Number.NaN : Number(text);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
