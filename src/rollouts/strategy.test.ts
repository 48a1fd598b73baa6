// The strategy schema as users write it (the issue's YAML), its errors, the plans it turns into, and the
// rollout record's parsing.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseRolloutRecord } from './record.js';
import { rolloutPlan, stepName } from './rollout.js';
import { strategyIssues, strategyKind, strategySchema } from './strategy.js';

function issuesOf(input: unknown): string[] {
  const result = strategySchema.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('strategySchema', () => {
  it('reads the canary of the issue, durations as milliseconds', () => {
    const strategy = strategySchema.parse(
      parse(`
canary:
  steps:
    - setWeight: 10
    - pause: { duration: 30s }
    - analysis: { templates: [success-rate] }
    - setWeight: 50
    - pause: {}
  stickiness: cookie
  headerRoute: { name: X-Canary, value: always }
`),
    );
    expect(strategy).toEqual({
      canary: {
        steps: [
          { setWeight: 10 },
          { pause: { durationMs: 30_000 } },
          { analysis: { templates: ['success-rate'] } },
          { setWeight: 50 },
          { pause: {} },
        ],
        stickiness: 'cookie',
        headerRoute: { name: 'X-Canary', value: 'always' },
      },
    });
    expect(strategyKind(strategy)).toBe('canary');
    expect(rolloutPlan(strategy, 8080).map(stepName)).toEqual([
      'setWeight 10',
      'pause 30s',
      'analysis success-rate',
      'setWeight 50',
      'pause until promoted',
      'promote',
    ]);
  });

  it('reads blue-green with its defaults, manual or timed promotion', () => {
    const strategy = strategySchema.parse(
      parse(`
blueGreen:
  previewPort: 18080
  autoPromote: { after: 60s }
  prePromotionAnalysis: { templates: [smoke] }
  scaleDownDelay: 5m
`),
    );
    expect(strategy).toEqual({
      blueGreen: {
        previewPort: 18080,
        autoPromote: { afterMs: 60_000 },
        prePromotionAnalysis: { templates: ['smoke'] },
        scaleDownDelayMs: 300_000,
      },
    });
    expect(strategyKind(strategy)).toBe('blueGreen');
    expect(rolloutPlan(strategy, 8080)).toEqual([
      { kind: 'preview', port: 18080 },
      { kind: 'analysis', templates: ['smoke'], port: 18080 },
      { kind: 'pause', reason: 'promotion', durationMs: 60_000 },
      { kind: 'promote', scaleDownDelayMs: 300_000 },
    ]);
    expect(rolloutPlan(strategy, 8080).map(stepName)).toEqual([
      'preview on port 18080',
      'analysis smoke',
      'pause 1m',
      'promote (old revision kept 5m)',
    ]);

    const defaults = strategySchema.parse({ blueGreen: {} });
    expect(defaults).toEqual({ blueGreen: { autoPromote: { afterMs: 0 }, scaleDownDelayMs: 30_000 } });
    expect(rolloutPlan(defaults, 80)).toEqual([{ kind: 'promote', scaleDownDelayMs: 30_000 }]);
    const manual = strategySchema.parse({ blueGreen: { autoPromote: 'manual', scaleDownDelay: '0s' } });
    expect(rolloutPlan(manual, 80).map(stepName)).toEqual(['wait for promote', 'promote']);
    expect(stepName({ kind: 'pause', reason: 'step', durationMs: 1500 })).toBe('pause 1500ms');
    expect(stepName({ kind: 'pause', reason: 'step', durationMs: 7_200_000 })).toBe('pause 2h');
    expect(stepName(undefined)).toBe('done');
    expect(strategySchema.parse({ canary: {} })).toEqual({ canary: { steps: [] } });
  });

  it('says what is wrong, with the field', () => {
    expect(issuesOf({})).toEqual([': give exactly one of canary or blueGreen']);
    expect(issuesOf({ canary: {}, blueGreen: {} })).toEqual([': give exactly one of canary or blueGreen']);
    expect(issuesOf({ canary: { steps: [{ setWeight: 10, pause: {} }] } })).toEqual([
      'canary.steps.0: a step is exactly one of setWeight, pause or analysis (found setWeight and pause), e.g. - setWeight: 10',
    ]);
    expect(issuesOf({ canary: { steps: [{}] } })[0]).toContain('(found none)');
    expect(issuesOf({ canary: { steps: [{ setWeight: 120 }] } })[0]).toMatch(
      /^canary\.steps\.0\.setWeight: /,
    );
    expect(issuesOf({ canary: { steps: [{ pause: { duration: '30' } }] } })).toEqual([
      'canary.steps.0.pause.duration: "30" has no unit; write a number with a unit (ms, s, m, h, d), e.g. 500ms, 30s, 2m or 1h30m',
    ]);
    expect(issuesOf({ canary: { steps: [{ pause: { duration: '30d' } }] } })[0]).toMatch(/must be between/);
    expect(issuesOf({ canary: { steps: [{ analysis: { templates: [] } }] } })[0]).toMatch(/at least one/);
    expect(issuesOf({ canary: { steps: [{ analysis: { templates: ['a', 'a'] } }] } })[0]).toMatch(
      /"a" is listed twice/,
    );
    expect(issuesOf({ canary: { headerRoute: { name: 'X Canary', value: 'x' } } })[0]).toMatch(
      /must be an HTTP header name/,
    );
    expect(issuesOf({ canary: { stickiness: 'ip' } })[0]).toMatch(/^canary\.stickiness/);
    expect(issuesOf({ blueGreen: { prePromotionAnalysis: { templates: ['smoke'] } } })).toEqual([
      'blueGreen.prePromotionAnalysis: needs a previewPort: the analysis judges the traffic the preview takes',
    ]);
    expect(issuesOf({ blueGreen: { autoPromote: 'auto' } })[0]).toMatch(/^blueGreen\.autoPromote/);
    expect(issuesOf({ blueGreen: { scaleDownDelay: 5 } })[0]).toMatch(/a string with a unit/);
  });

  it('checks the preview port against the App port', () => {
    const strategy = strategySchema.parse({ blueGreen: { previewPort: 8080 } });
    expect(strategyIssues(strategy, { port: 8080 })).toEqual([
      { path: ['blueGreen', 'previewPort'], message: "must differ from the App's port 8080" },
    ]);
    expect(strategyIssues(strategy, { port: 8081 })).toEqual([]);
    expect(strategyIssues(strategySchema.parse({ canary: {} }), { port: 8080 })).toEqual([]);
  });
});

describe('parseRolloutRecord', () => {
  it('refuses what is not a record, with the field', () => {
    expect(parseRolloutRecord('{')).toMatchObject({ ok: false });
    expect(parseRolloutRecord('{')).toMatchObject({
      message: expect.stringMatching(/^the rollout record is not JSON/),
    });
    expect(parseRolloutRecord({ version: 2 })).toEqual({
      ok: false,
      message: 'the rollout record: version: Invalid input: expected 1',
    });
  });
});
