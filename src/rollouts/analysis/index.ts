// Progressive delivery's analysis engine: what a rollout imports. Templates are parsed with
// parseAnalysisTemplates, judged with runAnalysis; the rest is for tests and status displays.
export { type CompileResult, compileCondition, evaluateCondition } from './cel.js';
export { assessMetric, judgeConditions, worstPhase } from './judge.js';
export { PlaceholderError } from './placeholders.js';
export { PROVIDERS } from './providers/index.js';
export { AnalysisInputError, type RunAnalysisOptions, runAnalysis } from './run.js';
export {
  type AnalysisRunnerFn,
  type AnalysisRunnerOptions,
  createAnalysisRunner,
  type RunnerContext,
} from './runner.js';
export {
  type AnalysisMetric,
  type AnalysisTemplate,
  type AnalysisTemplateDocument,
  analysisTemplateDocumentSchema,
  COMPARISON_DEFAULTS,
  type MetricProvider,
  type ParsedTemplates,
  parseAnalysisTemplates,
  ROUTER_QUERIES,
} from './schema.js';
export type {
  AnalysisContext,
  AnalysisPhase,
  AnalysisResult,
  Measurement,
  MeasurementEvent,
  MeasurementPhase,
  MetricPhase,
  MetricResult,
  RevisionSummary,
  RouterStatsSource,
} from './types.js';
