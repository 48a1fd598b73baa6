// The shape of a Cargo.lock, parsed leniently: one malformed `[[package]]` is skipped, not the whole file.
import { z } from 'zod';

/** One `[[package]]`; `dependencies` entries are `name`, `name version` or `name version (source)`. */
export const cargoPackageSchema = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  source: z.string().optional(),
  dependencies: z.array(z.string()).optional(),
});
export type CargoPackage = z.infer<typeof cargoPackageSchema>;

/** The document: v1 has `[root]` and no `version`; v3 and v4 have `version = 3|4`. */
export const cargoLockSchema = z
  .object({
    version: z.number().optional(),
    package: z.array(z.unknown()).optional(),
    root: z.unknown().optional(),
  })
  .refine((lock) => lock.version !== undefined || lock.package !== undefined || lock.root !== undefined, {
    message: 'no version, [root] or [[package]]',
  });
