// Zod schemas for yarn.lock entries: Berry (YAML, failsafe schema) and classic (v1, parsed by classic.ts).
import { z } from 'zod';

const StringMap = z.record(z.string(), z.string());

/** One Berry entry (`"a@npm:^1.0.0, a@npm:^1.1.0": { version, resolution, … }`). */
export const BerryEntrySchema = z.object({
  version: z.string(),
  resolution: z.string(),
  dependencies: StringMap.optional(),
  peerDependencies: StringMap.optional(),
  languageName: z.string().optional(),
  linkType: z.string().optional(),
  checksum: z.string().optional(),
});
export type BerryEntry = z.infer<typeof BerryEntrySchema>;

/** One classic entry, after the indentation parser turned it into fields and blocks. */
export const ClassicEntrySchema = z.object({
  version: z.string(),
  resolved: z.string().optional(),
  integrity: z.string().optional(),
  dependencies: StringMap.optional(),
  optionalDependencies: StringMap.optional(),
});
export type ClassicEntry = z.infer<typeof ClassicEntrySchema>;
