// The shape of a NuGet packages.lock.json, parsed leniently: one malformed entry is skipped, not the whole file.
import { z } from 'zod';

/** One package under a target framework. `Project` entries (other projects of the solution) have no version. */
export const nugetEntrySchema = z.object({
  type: z.string().optional(),
  resolved: z.string().min(1).optional(),
  dependencies: z.record(z.string(), z.unknown()).optional(),
});
export type NugetEntry = z.infer<typeof nugetEntrySchema>;

/** The document: `dependencies` maps each target framework (`net8.0`, `net8.0/win-x64`) to its packages. */
export const nugetLockSchema = z.object({
  version: z.number().optional(),
  dependencies: z.record(z.string(), z.record(z.string(), z.unknown())),
});
