// The policy engine's public API, for `plumbline check` (the policy analyzer) and the controller. Both call
// the same functions with the same documents, so CI and the controller never disagree:
//
//   const policies = loadPolicies(repoDir);                        // once per revision; ConfigError if malformed
//   const { resources } = await readEnvironmentManifests(repoDir, env, { environmentDocument });
//   const verdicts = evaluate(policies, resources.map((r) => ({ ...r, oldObject: stored(r) })));
//   const { denied, warned, audited } = summarize(verdicts);     // Deny stops the sync, Warn is shown, Audit recorded
export { CostLimitError, PER_EVALUATION_BUDGET, PER_EXPRESSION_LIMIT } from './cel/cost.js';
export {
  describeResource,
  type EvaluateOptions,
  evaluate,
  type PolicyResource,
  policyLabel,
  type ResourceRef,
  summarize,
  type Verdict,
  type VerdictResult,
  verdictMessage,
} from './engine.js';
export {
  type CompiledPolicy,
  loadPolicies,
  type PolicyInstance,
  type PolicySet,
  policiesFromSources,
  type SourceFile,
} from './load.js';
export {
  type EnvironmentManifests,
  type ManifestEnvironment,
  type ManifestOptions,
  readEnvironmentDocuments,
  readEnvironmentManifests,
} from './manifests.js';
export type { Operation, ValidationAction } from './schema.js';
