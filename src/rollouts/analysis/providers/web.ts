// `web`: an HTTP call whose JSON answer is judged; jsonPath picks the result (a number, or any JSON value
// the conditions can read). A path that leads nowhere, or to null, is no data; a non-2xx answer is an error.
// Header values (tokens) are sent, never logged or put in a message.
import { parseJsonPath, selectJsonPath } from '../jsonpath.js';
import { renderHeader, renderJsonBody, renderUrl } from '../placeholders.js';
import type { MetricProvider } from '../schema.js';
import { callJson, describeUrl } from './http.js';
import type { Observation, ProviderDefinition } from './types.js';

type WebProvider = Extract<MetricProvider, { kind: 'web' }>;

export const webProvider: ProviderDefinition<WebProvider> = {
  windowed: false,
  requires: () => undefined,
  create({ provider, vars }) {
    const path = parseJsonPath(provider.jsonPath);
    if (!path.ok) throw new Error(path.message);
    return {
      async measure(_look, signal): Promise<Observation> {
        const url = renderUrl(provider.url, vars);
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(provider.headers))
          headers[name] = renderHeader(value, vars);
        const body = provider.body === undefined ? undefined : renderJsonBody(provider.body, vars);
        if (
          body !== undefined &&
          !Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')
        ) {
          headers['content-type'] = 'application/json';
        }
        const answer = await callJson({
          url,
          method: provider.method,
          headers,
          ...(body === undefined ? {} : { body }),
          timeoutMs: provider.timeoutMs,
          signal,
        });
        const where = describeUrl(url);
        if (answer.status < 200 || answer.status > 299)
          throw new Error(`${where} answered HTTP ${answer.status}`);
        if (answer.json === undefined) throw new Error(`${where} answered something that is not JSON`);
        const value = selectJsonPath(answer.json, path.steps);
        if (value === undefined || value === null) {
          return {
            kind: 'noData',
            message: `${provider.jsonPath} is ${value === null ? 'null' : 'missing'} in the answer`,
          };
        }
        return { kind: 'value', value };
      },
    };
  },
};
