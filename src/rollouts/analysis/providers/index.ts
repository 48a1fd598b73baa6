// The explicit registry of analysis providers, by the key a template names them with.
import type { MetricProvider } from '../schema.js';
import { comparisonProvider } from './comparison.js';
import { prometheusProvider } from './prometheus.js';
import { routerProvider } from './router.js';
import type { Measurer, ProviderDefinition, ProviderInput } from './types.js';
import { webProvider } from './web.js';

type Definitions = {
  readonly [K in MetricProvider['kind']]: ProviderDefinition<Extract<MetricProvider, { kind: K }>>;
};

export const PROVIDERS: Definitions = {
  router: routerProvider,
  prometheus: prometheusProvider,
  web: webProvider,
  comparison: comparisonProvider,
};

/** The provider's definition for a metric's provider. */
export function definitionOf(provider: MetricProvider): ProviderDefinition<MetricProvider> {
  return PROVIDERS[provider.kind] as ProviderDefinition<MetricProvider>;
}

export function createMeasurer(input: ProviderInput<MetricProvider>): Measurer {
  return definitionOf(input.provider).create(input);
}
