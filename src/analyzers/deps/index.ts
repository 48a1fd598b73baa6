// The deps analyzer: third-party packages from lockfiles, matched against OSV advisories. The work lives in
// run.ts and is loaded on first use, so checks that do not scan dependencies never load the parsers.
import type { Analyzer } from '../types.js';

export const depsAnalyzer: Analyzer = {
  name: 'deps',
  description: 'Vulnerable dependencies: lockfiles matched against OSV advisories',
  sources: ['tree'],
  ownsSince: true,
  async run(context) {
    const { runDeps } = await import('./run.js');
    return runDeps(context);
  },
};
