// The shape of a uv.lock, parsed leniently: one malformed `[[package]]` is skipped, not the whole file.
import { z } from 'zod';

/** `{ name = "idna" }`, with `version`/`source` when the lock holds several versions of the package. */
export const uvDependencySchema = z.object({
  name: z.string().min(1),
  version: z.string().optional(),
});
export type UvDependency = z.infer<typeof uvDependencySchema>;

/** Where a package comes from: exactly one of these keys is set. */
export const uvSourceSchema = z.object({
  registry: z.string().optional(),
  git: z.string().optional(),
  path: z.string().optional(),
  directory: z.string().optional(),
  editable: z.string().optional(),
  virtual: z.string().optional(),
  url: z.string().optional(),
});
export type UvSource = z.infer<typeof uvSourceSchema>;

const dependencyList = z.array(z.unknown());

/** One `[[package]]` entry. Projects with a dynamic version have none. */
export const uvPackageSchema = z.object({
  name: z.string().min(1),
  version: z.string().optional(),
  source: uvSourceSchema.optional(),
  dependencies: dependencyList.optional(),
  'optional-dependencies': z.record(z.string(), dependencyList).optional(),
  'dev-dependencies': z.record(z.string(), dependencyList).optional(),
});
export type UvPackage = z.infer<typeof uvPackageSchema>;

/** The document; uv's first previews wrote `[[distribution]]` instead of `[[package]]`. */
export const uvLockSchema = z
  .object({
    version: z.number().optional(),
    package: z.array(z.unknown()).optional(),
    distribution: z.array(z.unknown()).optional(),
    manifest: z.object({ members: z.array(z.string()).optional() }).optional(),
  })
  .refine(
    (lock) => lock.version !== undefined || lock.package !== undefined || lock.distribution !== undefined,
    {
      message: 'no version or [[package]]',
    },
  );
