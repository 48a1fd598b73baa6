// The policy analyzer: the repository's CEL policies judge the manifests of every environment. The work
// lives in run.ts and is loaded on first use, so checks that do not judge policies never load CEL.
import type { Analyzer } from '../types.js';

export const policyAnalyzer: Analyzer = {
  name: 'policy',
  description:
    'Policy as code: CEL policies (Policy, ValidatingAdmissionPolicy, Kyverno ValidatingPolicy) on every environment',
  sources: ['tree'],
  // Violations are about documents, not added lines: with --since, the analyzer keeps those in changed files.
  ownsSince: true,
  async run(context) {
    const { runPolicy } = await import('./run.js');
    return runPolicy(context);
  },
};
