import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Two cores: two test files at a time. End-to-end tests spawn git and the CLI.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      exclude: [
        'src/**/*.test.ts',
        'src/**/*.test-helper.ts',
        'src/cli/**',
        'src/analyzers/secrets/worker.ts',
      ],
      reporter: ['text-summary', 'json-summary'],
      // The floor: `make test` fails below it. CLI and worker code run in child processes in the
      // end-to-end tests, where V8 coverage of the parent cannot see them.
      thresholds: { lines: 85, functions: 85, branches: 75, statements: 85 },
    },
  },
});
