// The shape of a Pipfile.lock, parsed leniently: one malformed entry is skipped, not the whole file.
import { z } from 'zod';

/** One locked package under `default` or `develop`. */
export const pipfileLockEntrySchema = z.object({
  version: z.string().optional(),
  git: z.string().optional(),
  ref: z.string().optional(),
  path: z.string().optional(),
  file: z.string().optional(),
  editable: z.boolean().optional(),
});
export type PipfileLockEntry = z.infer<typeof pipfileLockEntrySchema>;

/** The sections: each a name → entry object, checked entry by entry. */
export const pipfileLockSchema = z
  .object({
    _meta: z.unknown().optional(),
    default: z.record(z.string(), z.unknown()).optional(),
    develop: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((lock) => lock._meta !== undefined || lock.default !== undefined || lock.develop !== undefined, {
    message: 'no _meta, default or develop section',
  });
