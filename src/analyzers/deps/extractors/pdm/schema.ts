// The shape of a pdm.lock, parsed leniently: one malformed `[[package]]` is skipped, not the whole file.
import { z } from 'zod';

/** One `[[package]]` entry. A package locked with extras appears once more, with `extras`. */
export const pdmPackageSchema = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  /** PDM 2: the dependency groups that need it (`default` is the runtime group). */
  groups: z.array(z.string()).optional(),
  /** PDM 1 called them sections. */
  sections: z.array(z.string()).optional(),
  dependencies: z.array(z.unknown()).optional(),
  git: z.string().optional(),
  path: z.string().optional(),
  url: z.string().optional(),
  editable: z.boolean().optional(),
});
export type PdmPackage = z.infer<typeof pdmPackageSchema>;

/** The document: a `package` array and/or a `metadata` table. */
export const pdmLockSchema = z
  .object({
    package: z.array(z.unknown()).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((lock) => lock.package !== undefined || lock.metadata !== undefined, {
    message: 'no [[package]] or [metadata]',
  });
