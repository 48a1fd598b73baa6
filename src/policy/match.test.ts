// Resource matching as the API server does it: rules, exclusions, scope, names and label selectors.
import { describe, expect, it } from 'vitest';
import { identify, type MatchInput, matches, resourceOf, selectorMatches } from './match.js';
import type { MatchResources, ResourceRule } from './schema.js';

const rule = (r: Partial<ResourceRule>): ResourceRule => ({
  apiGroups: ['*'],
  apiVersions: ['*'],
  resources: ['*'],
  operations: ['*'],
  resourceNames: [],
  scope: '*',
  ...r,
});
const constraints = (m: Partial<MatchResources>): MatchResources => ({
  resourceRules: [rule({})],
  excludeResourceRules: [],
  ...m,
});
const input = (doc: unknown, extra: Partial<MatchInput> = {}): MatchInput => ({
  id:
    identify(doc) ??
    (() => {
      throw new Error('not a resource');
    })(),
  operation: 'CREATE',
  namespaceLabels: undefined,
  oldLabels: undefined,
  ...extra,
});

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } },
};
const namespace = {
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: 'shop', labels: { team: 'shop' } },
};
const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'admin' } };

describe('resource identity', () => {
  it('knows the usual resources and pluralises the rest', () => {
    expect(['Ingress', 'NetworkPolicy', 'Gateway', 'Widget', 'Proxy', 'Box', 'Mesh'].map(resourceOf)).toEqual(
      ['ingresses', 'networkpolicies', 'gateways', 'widgets', 'proxies', 'boxes', 'meshes'],
    );
    expect(identify(deployment)).toMatchObject({
      group: 'apps',
      version: 'v1',
      resource: 'deployments',
      namespace: 'shop',
    });
    expect(identify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } })?.namespace).toBe('default');
    expect(identify(role)).toMatchObject({ clusterScoped: true, namespace: undefined });
    expect(
      identify({ apiVersion: 'kyverno.io/v1', kind: 'Policy', metadata: { name: 'x' } })?.clusterScoped,
    ).toBe(false);
    expect(identify({ kind: 'NoVersion' })).toBeUndefined();
  });
});

describe('matches', () => {
  it('checks groups, versions, resources, operations, names and scope', () => {
    expect(
      matches(
        constraints({ resourceRules: [rule({ apiGroups: ['apps'], resources: ['deployments'] })] }),
        input(deployment),
      ),
    ).toBe(true);
    expect(matches(constraints({ resourceRules: [rule({ apiGroups: [''] })] }), input(deployment))).toBe(
      false,
    );
    expect(
      matches(constraints({ resourceRules: [rule({ apiVersions: ['v1beta1'] })] }), input(deployment)),
    ).toBe(false);
    expect(
      matches(constraints({ resourceRules: [rule({ operations: ['UPDATE'] })] }), input(deployment)),
    ).toBe(false);
    expect(
      matches(constraints({ resourceRules: [rule({ resourceNames: ['api'] })] }), input(deployment)),
    ).toBe(false);
    expect(matches(constraints({ resourceRules: [rule({ scope: 'Cluster' })] }), input(deployment))).toBe(
      false,
    );
    expect(matches(constraints({ resourceRules: [rule({ scope: 'Namespaced' })] }), input(role))).toBe(false);
    expect(
      matches(
        constraints({ excludeResourceRules: [rule({ resources: ['deployments'] })] }),
        input(deployment),
      ),
    ).toBe(false);
  });

  it('selects namespaces by label; a Namespace by its own labels; other cluster objects always', () => {
    const m = constraints({ namespaceSelector: { matchLabels: { team: 'shop' } } });
    expect(matches(m, input(deployment, { namespaceLabels: { team: 'shop' } }))).toBe(true);
    expect(matches(m, input(deployment, { namespaceLabels: { team: 'ops' } }))).toBe(false);
    expect(matches(m, input(deployment))).toBe(false);
    expect(matches(m, input(namespace))).toBe(true);
    expect(matches(m, input(role))).toBe(true);
  });

  it('selects objects by their labels, now or before the change', () => {
    const m = constraints({ objectSelector: { matchLabels: { app: 'api' } } });
    expect(matches(m, input(deployment))).toBe(false);
    expect(matches(m, input(deployment, { oldLabels: { app: 'api' } }))).toBe(true);
  });
});

describe('selectorMatches', () => {
  const labels = { tier: 'prod', team: 'web' };
  it.each([
    [{ matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['prod', 'staging'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['dev'] }] }, false],
    [{ matchExpressions: [{ key: 'tier', operator: 'NotIn' as const, values: ['dev'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'NotIn' as const, values: ['prod'] }] }, false],
    [{ matchExpressions: [{ key: 'team', operator: 'Exists' as const }] }, true],
    [{ matchExpressions: [{ key: 'owner', operator: 'Exists' as const }] }, false],
    [{ matchExpressions: [{ key: 'owner', operator: 'DoesNotExist' as const }] }, true],
    [{ matchExpressions: [{ key: 'team', operator: 'DoesNotExist' as const }] }, false],
    [{ matchLabels: { tier: 'prod' } }, true],
    [{}, true],
  ])('%j → %s', (selector, expected) => {
    expect(selectorMatches(selector, labels)).toBe(expected);
  });
});
