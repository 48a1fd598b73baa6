// Every analyzer, in one explicit list. Later analyzers (deps, sast, policy, coverage) are added here.
import { depsAnalyzer } from './deps/index.js';
import { policyAnalyzer } from './policy/index.js';
import { secretsAnalyzer } from './secrets/index.js';
import type { Analyzer } from './types.js';

export const ANALYZERS: readonly Analyzer[] = [secretsAnalyzer, depsAnalyzer, policyAnalyzer];

export function findAnalyzer(name: string): Analyzer | undefined {
  return ANALYZERS.find((a) => a.name === name);
}
