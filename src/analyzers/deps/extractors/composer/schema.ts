// The shape of a composer.lock, parsed leniently: one malformed package is skipped, not the whole file.
import { z } from 'zod';

/** One entry of `packages` or `packages-dev`. */
export const composerPackageSchema = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  source: z.object({ type: z.string().optional() }).optional(),
  dist: z.object({ type: z.string().optional() }).optional(),
  require: z.record(z.string(), z.unknown()).optional(),
});
export type ComposerPackage = z.infer<typeof composerPackageSchema>;

/** The document: entries are checked one by one. */
export const composerLockSchema = z
  .object({
    packages: z.array(z.unknown()).optional(),
    'packages-dev': z.array(z.unknown()).nullable().optional(),
    'content-hash': z.string().optional(),
  })
  .refine((lock) => lock.packages !== undefined || lock['content-hash'] !== undefined, {
    message: 'no packages',
  });

/** The parts of composer.json read for direct dependencies. */
export const composerManifestSchema = z.object({
  require: z.record(z.string(), z.unknown()).optional(),
  'require-dev': z.record(z.string(), z.unknown()).optional(),
});
