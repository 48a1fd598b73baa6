// The shape of a poetry.lock, parsed leniently: one malformed `[[package]]` is skipped, not the whole file.
import { z } from 'zod';

/** One `[[package]]` entry. */
export const poetryPackageSchema = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  /** Poetry before 1.5: `main` or `dev`. */
  category: z.string().optional(),
  /** Poetry 2: the dependency groups that need it. */
  groups: z.array(z.string()).optional(),
  source: z
    .object({
      type: z.string(),
      url: z.string().optional(),
      reference: z.string().optional(),
      resolved_reference: z.string().optional(),
    })
    .optional(),
  dependencies: z.record(z.string(), z.unknown()).optional(),
});
export type PoetryPackage = z.infer<typeof poetryPackageSchema>;

/** The document: a `package` array and/or a `metadata` table. */
export const poetryLockSchema = z
  .object({
    package: z.array(z.unknown()).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((lock) => lock.package !== undefined || lock.metadata !== undefined, {
    message: 'no [[package]] or [metadata]',
  });
