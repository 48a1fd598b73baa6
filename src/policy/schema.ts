// The schemas of the policy documents the engine reads: Plumbline's own `Policy` (strict: it is our format),
// Kubernetes' ValidatingAdmissionPolicy and its binding, and Kyverno's CEL ValidatingPolicy (lenient about
// fields Plumbline does not use, strict about the types of those it does), and the `PolicyTest` document of
// `plumbline policy test`. Types are derived from the schemas.
import { z } from 'zod';

export const POLICY_API_VERSION = 'plumbline.dev/v1alpha1';
export const VAP_API_VERSIONS = [
  'admissionregistration.k8s.io/v1',
  'admissionregistration.k8s.io/v1beta1',
  'admissionregistration.k8s.io/v1alpha1',
] as const;
export const KYVERNO_API_VERSIONS = [
  'policies.kyverno.io/v1',
  'policies.kyverno.io/v1beta1',
  'policies.kyverno.io/v1alpha1',
] as const;

export const VALIDATION_ACTIONS = ['Deny', 'Warn', 'Audit'] as const;
export type ValidationAction = (typeof VALIDATION_ACTIONS)[number];
export const OPERATIONS = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] as const;
export type Operation = (typeof OPERATIONS)[number];

const name = z.string().min(1);
const expression = z.string().min(1, 'write a CEL expression');

const labelSelector = z
  .object({
    matchLabels: z.record(z.string(), z.string()).optional(),
    matchExpressions: z
      .array(
        z.object({
          key: z.string().min(1),
          operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
          values: z.array(z.string()).optional(),
        }),
      )
      .optional(),
  })
  .strict();
export type LabelSelector = z.infer<typeof labelSelector>;

const resourceRule = z
  .object({
    apiGroups: z
      .array(z.string())
      .min(1, 'list the API groups, e.g. ["apps"], [""] for the core group, or ["*"]'),
    apiVersions: z.array(z.string()).min(1, 'list the API versions, e.g. ["v1"] or ["*"]'),
    resources: z
      .array(z.string().min(1))
      .min(1, 'list the resources by their plural name, e.g. ["deployments"] or ["apps"]'),
    operations: z.array(z.enum([...OPERATIONS, '*'])).default(['*']),
    resourceNames: z.array(z.string()).default([]),
    scope: z.enum(['*', 'Cluster', 'Namespaced']).default('*'),
  })
  .strict();
export type ResourceRule = z.infer<typeof resourceRule>;

const matchResources = z
  .object({
    resourceRules: z.array(resourceRule).default([]),
    excludeResourceRules: z.array(resourceRule).default([]),
    namespaceSelector: labelSelector.optional(),
    objectSelector: labelSelector.optional(),
    matchPolicy: z.enum(['Exact', 'Equivalent']).optional(),
  })
  .strict();
export type MatchResources = z.infer<typeof matchResources>;

const matchCondition = z.object({ name, expression }).strict();
const variable = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name is a CEL identifier, e.g. containers'),
    expression,
  })
  .strict();
const validation = z
  .object({
    expression,
    message: z.string().optional(),
    messageExpression: z.string().min(1).optional(),
    reason: z.string().optional(),
  })
  .strict();
const auditAnnotation = z.object({ key: z.string().min(1), valueExpression: expression }).strict();
const paramKind = z.object({ apiVersion: z.string().min(1), kind: z.string().min(1) }).strict();
const paramRef = z
  .object({
    name: z.string().min(1).optional(),
    namespace: z.string().optional(),
    selector: labelSelector.optional(),
    parameterNotFoundAction: z.enum(['Deny', 'Allow']).default('Deny'),
  })
  .strict()
  .refine((ref) => ref.name !== undefined || ref.selector !== undefined, {
    message: 'give the parameter document a name, or a selector that picks parameter documents by label',
  });
export type ParamRef = z.infer<typeof paramRef>;

const validationActions = z
  .array(z.enum(VALIDATION_ACTIONS))
  .min(1)
  .refine((a) => !(a.includes('Deny') && a.includes('Warn')), {
    message: 'Deny and Warn cannot be used together; use [Deny] or [Warn], optionally with Audit',
  });

const metadata = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, 'use a DNS-style name: lower case, digits, dashes'),
    namespace: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .loose();

/** The fields every CEL policy kind shares (VAP's spec). */
const policySpecFields = {
  failurePolicy: z.enum(['Fail', 'Ignore']).default('Fail'),
  paramKind: paramKind.optional(),
  matchConditions: z.array(matchCondition).default([]),
  variables: z.array(variable).default([]),
  validations: z.array(validation).default([]),
  auditAnnotations: z.array(auditAnnotation).default([]),
};

export const plumblinePolicySchema = z
  .object({
    apiVersion: z.literal(POLICY_API_VERSION),
    kind: z.literal('Policy'),
    metadata: metadata.extend({}).strict(),
    spec: z
      .object({
        ...policySpecFields,
        description: z.string().optional(),
        matchConstraints: matchResources.refine((m) => m.resourceRules.length > 0, {
          message:
            'give at least one resource rule, e.g. {apiGroups: [plumbline.dev], apiVersions: ["*"], resources: [apps]}',
          path: ['resourceRules'],
        }),
        validationActions: validationActions.default(['Deny']),
        paramRef: paramRef.optional(),
      })
      .strict()
      .refine((s) => s.validations.length > 0 || s.auditAnnotations.length > 0, {
        message: 'give at least one validation (or audit annotation)',
        path: ['validations'],
      }),
  })
  .strict();

export const vapSchema = z.object({
  apiVersion: z.enum(VAP_API_VERSIONS),
  kind: z.literal('ValidatingAdmissionPolicy'),
  metadata,
  spec: z
    .object({
      ...policySpecFields,
      matchConstraints: matchResources.loose().optional(),
    })
    .loose(),
});

export const vapBindingSchema = z.object({
  apiVersion: z.enum(VAP_API_VERSIONS),
  kind: z.literal('ValidatingAdmissionPolicyBinding'),
  metadata,
  spec: z
    .object({
      policyName: z.string().min(1),
      paramRef: paramRef.optional(),
      matchResources: matchResources.loose().optional(),
      validationActions: validationActions.optional(),
    })
    .loose(),
});

export const kyvernoPolicySchema = z.object({
  apiVersion: z.enum(KYVERNO_API_VERSIONS),
  kind: z.literal('ValidatingPolicy'),
  metadata,
  spec: z
    .object({
      ...policySpecFields,
      matchConstraints: matchResources.loose().optional(),
      validationActions: validationActions.default(['Deny']),
      paramRef: paramRef.optional(),
    })
    .loose(),
});

export type PlumblinePolicyDocument = z.infer<typeof plumblinePolicySchema>;
export type VapDocument = z.infer<typeof vapSchema>;
export type VapBindingDocument = z.infer<typeof vapBindingSchema>;
export type KyvernoPolicyDocument = z.infer<typeof kyvernoPolicySchema>;
export type PolicySpec = VapDocument['spec'] & {
  readonly validationActions?: readonly ValidationAction[];
  readonly paramRef?: ParamRef;
};

// --- `plumbline policy test` ---

const expectedResult = z.enum(['pass', 'fail', 'skip', 'error', 'warn']);

export const policyTestSchema = z
  .object({
    apiVersion: z.literal(POLICY_API_VERSION),
    kind: z.literal('PolicyTest'),
    metadata: z.object({ name: z.string().min(1) }).loose(),
    spec: z
      .object({
        /** Files with the policies (and bindings, parameter documents), relative to this file. */
        policies: z.array(z.string().min(1)).min(1, 'list the files that hold the policies under test'),
        /** Files with the documents to judge. */
        resources: z.array(z.string().min(1)).min(1, 'list the files that hold the resources to judge'),
        /** Files with parameter documents (they may also sit in the policy or resource files). */
        params: z.array(z.string().min(1)).default([]),
        /** Files with the previous versions of resources (oldObject): the operation becomes UPDATE. */
        oldResources: z.array(z.string().min(1)).default([]),
        operation: z.enum(OPERATIONS).optional(),
        /**
         * The environment the Apps among the resources are rendered in: an Environment document among them
         * (its labels feed namespaceSelector, it is `namespaceObject`). Default: the only one there is.
         */
        environment: z.string().min(1).optional(),
        results: z
          .array(
            z
              .object({
                policy: z.string().min(1),
                /** Resources by name, `Kind/name` or `namespace/Kind/name`. */
                resources: z.array(z.string().min(1)).min(1),
                result: expectedResult,
                /** A text the failure message must contain. */
                message: z.string().optional(),
              })
              .strict(),
          )
          .min(1, 'give the expected result per policy and resource'),
      })
      .strict(),
  })
  .strict();
export type PolicyTestDocument = z.infer<typeof policyTestSchema>;

/** Kyverno CLI's test file (`kyverno-test.yaml`), both its current and its older shape. */
export const kyvernoTestSchema = z
  .object({
    apiVersion: z.string().optional(),
    kind: z.string().optional(),
    metadata: z.object({ name: z.string().optional() }).loose().optional(),
    name: z.string().optional(),
    policies: z.array(z.string().min(1)).min(1),
    resources: z.array(z.string().min(1)).min(1),
    variables: z.string().optional(),
    results: z
      .array(
        z
          .object({
            policy: z.string().min(1),
            rule: z.string().optional(),
            resources: z.array(z.string().min(1)).optional(),
            resource: z.string().optional(),
            kind: z.string().optional(),
            namespace: z.string().optional(),
            result: expectedResult,
            isValidatingPolicy: z.boolean().optional(),
          })
          .loose()
          .refine((r) => r.resources !== undefined || r.resource !== undefined, {
            message: 'name the resources the result is about',
          }),
      )
      .min(1),
  })
  .loose();
export type KyvernoTestDocument = z.infer<typeof kyvernoTestSchema>;
