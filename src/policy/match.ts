// Which documents a policy applies to, as the API server decides for a ValidatingAdmissionPolicy: resource
// rules by API group, version, resource (plural name) and operation, exclusions, namespace and object label
// selectors. Plumbline's kinds are resources of the group `plumbline.dev` (apps, environments,
// analysistemplates); an App lives in the "namespace" of its environment.
import type { LabelSelector, MatchResources, Operation, ResourceRule } from './schema.js';
import { isRecord } from './yaml.js';

export const PLUMBLINE_GROUP = 'plumbline.dev';

/** Kind → plural resource name for the kinds policies usually name; others follow English plural rules. */
const RESOURCES: Record<string, string> = {
  App: 'apps',
  Environment: 'environments',
  AnalysisTemplate: 'analysistemplates',
  Check: 'checks',
  Policy: 'policies',
  Pod: 'pods',
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
  ReplicaSet: 'replicasets',
  ReplicationController: 'replicationcontrollers',
  Job: 'jobs',
  CronJob: 'cronjobs',
  Service: 'services',
  Ingress: 'ingresses',
  IngressClass: 'ingressclasses',
  ConfigMap: 'configmaps',
  Secret: 'secrets',
  Namespace: 'namespaces',
  ServiceAccount: 'serviceaccounts',
  Role: 'roles',
  RoleBinding: 'rolebindings',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  PersistentVolume: 'persistentvolumes',
  PersistentVolumeClaim: 'persistentvolumeclaims',
  StorageClass: 'storageclasses',
  NetworkPolicy: 'networkpolicies',
  HorizontalPodAutoscaler: 'horizontalpodautoscalers',
  PodDisruptionBudget: 'poddisruptionbudgets',
  Endpoints: 'endpoints',
  EndpointSlice: 'endpointslices',
  LimitRange: 'limitranges',
  ResourceQuota: 'resourcequotas',
  Node: 'nodes',
  PriorityClass: 'priorityclasses',
  RuntimeClass: 'runtimeclasses',
  CustomResourceDefinition: 'customresourcedefinitions',
  ValidatingWebhookConfiguration: 'validatingwebhookconfigurations',
  MutatingWebhookConfiguration: 'mutatingwebhookconfigurations',
  ValidatingAdmissionPolicy: 'validatingadmissionpolicies',
  ValidatingAdmissionPolicyBinding: 'validatingadmissionpolicybindings',
  APIService: 'apiservices',
  Gateway: 'gateways',
  GatewayClass: 'gatewayclasses',
  HTTPRoute: 'httproutes',
};

/** Kinds that live outside namespaces. */
const CLUSTER_SCOPED = new Set([
  'Environment',
  'Check',
  'Policy',
  'Namespace',
  'Node',
  'PersistentVolume',
  'ClusterRole',
  'ClusterRoleBinding',
  'StorageClass',
  'CustomResourceDefinition',
  'PriorityClass',
  'IngressClass',
  'RuntimeClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'APIService',
  'CSIDriver',
  'CSINode',
  'VolumeAttachment',
  'CertificateSigningRequest',
  'GatewayClass',
  'ClusterIssuer',
]);

export function resourceOf(kind: string): string {
  const known = RESOURCES[kind];
  if (known !== undefined) return known;
  const lower = kind.toLowerCase();
  if (/[^aeiou]y$/.test(lower)) return `${lower.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(lower)) return `${lower}es`;
  return `${lower}s`;
}

/** What a document is, in the terms resource rules use. */
export interface ResourceIdentity {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly resource: string;
  readonly name: string;
  /** The namespace (for an App: its environment); undefined for cluster-scoped kinds. */
  readonly namespace: string | undefined;
  readonly clusterScoped: boolean;
  readonly labels: Readonly<Record<string, string>>;
}

export function identify(doc: unknown, namespace?: string): ResourceIdentity | undefined {
  if (!isRecord(doc) || typeof doc.kind !== 'string' || typeof doc.apiVersion !== 'string') return undefined;
  const apiVersion = doc.apiVersion;
  const slash = apiVersion.lastIndexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  const metadata = isRecord(doc.metadata) ? doc.metadata : {};
  // Kyverno's classic `Policy` is namespaced; Plumbline's is not.
  const clusterScoped = CLUSTER_SCOPED.has(doc.kind) && !(doc.kind === 'Policy' && group !== PLUMBLINE_GROUP);
  const declared =
    typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : undefined;
  return {
    group,
    version,
    kind: doc.kind,
    resource: resourceOf(doc.kind),
    name: typeof metadata.name === 'string' ? metadata.name : '',
    namespace: clusterScoped ? undefined : (namespace ?? declared ?? 'default'),
    clusterScoped,
    labels: stringRecord(metadata.labels),
  };
}

export function stringRecord(value: unknown): Record<string, string> {
  if (!isRecord(value)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

function ruleMatches(rule: ResourceRule, id: ResourceIdentity, operation: Operation): boolean {
  const any = (list: readonly string[], value: string): boolean => list.includes('*') || list.includes(value);
  if (!any(rule.apiGroups, id.group)) return false;
  if (!any(rule.apiVersions, id.version)) return false;
  if (!rule.resources.some((r) => r === '*' || r === '*/*' || r === id.resource)) return false;
  if (
    !(rule.operations as readonly string[]).includes('*') &&
    !(rule.operations as readonly string[]).includes(operation)
  ) {
    return false;
  }
  if (rule.resourceNames.length > 0 && !rule.resourceNames.includes(id.name)) return false;
  if (rule.scope === 'Cluster' && !id.clusterScoped) return false;
  if (rule.scope === 'Namespaced' && id.clusterScoped) return false;
  return true;
}

export function selectorMatches(
  selector: LabelSelector | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (selector === undefined) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    switch (e.operator) {
      case 'In':
        if (!has || !(e.values ?? []).includes(value as string)) return false;
        break;
      case 'NotIn':
        if (has && (e.values ?? []).includes(value as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

export interface MatchInput {
  readonly id: ResourceIdentity;
  readonly operation: Operation;
  /** Labels of the namespace (for an App: of its Environment); undefined when unknown. */
  readonly namespaceLabels: Readonly<Record<string, string>> | undefined;
  /** Labels of the previous version, for objectSelector on updates and deletes. */
  readonly oldLabels: Readonly<Record<string, string>> | undefined;
}

/** True when the resource is one the constraints select. */
export function matches(constraints: MatchResources, input: MatchInput): boolean {
  const { id, operation } = input;
  if (!constraints.resourceRules.some((r) => ruleMatches(r, id, operation))) return false;
  if (constraints.excludeResourceRules.some((r) => ruleMatches(r, id, operation))) return false;
  if (constraints.namespaceSelector !== undefined) {
    // As the API server: a Namespace is matched on its own labels; other cluster-scoped objects always match.
    const labels = id.kind === 'Namespace' && id.group === '' ? id.labels : input.namespaceLabels;
    if (!id.clusterScoped || id.kind === 'Namespace') {
      if (!selectorMatches(constraints.namespaceSelector, labels ?? {})) return false;
    }
  }
  if (constraints.objectSelector !== undefined) {
    const now = selectorMatches(constraints.objectSelector, id.labels);
    const before =
      input.oldLabels !== undefined && selectorMatches(constraints.objectSelector, input.oldLabels);
    if (!now && !before) return false;
  }
  return true;
}
