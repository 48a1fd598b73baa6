// The parts of a pom.xml read for dependencies, parsed leniently: a malformed dependency is skipped.
import { z } from 'zod';

/** Text content of an element; an element holding other elements is not text. */
const text = z.string().optional().catch(undefined);

/** One `<dependency>`. */
export const pomDependencySchema = z.object({
  groupId: text,
  artifactId: text,
  version: text,
  scope: text,
});
export type PomDependency = z.infer<typeof pomDependencySchema>;

const dependencyList = z
  .object({ dependency: z.array(z.unknown()).optional() })
  .optional()
  .catch(undefined);

/** The `<project>` element. */
export const pomProjectSchema = z.object({
  groupId: text,
  artifactId: text,
  version: text,
  parent: z.object({ groupId: text, artifactId: text, version: text }).optional().catch(undefined),
  /** Name → value; read with Object.entries (the parser's metadata symbol is no property). */
  properties: z.unknown().optional(),
  dependencies: dependencyList,
  dependencyManagement: z.object({ dependencies: dependencyList }).optional().catch(undefined),
});
export type PomProject = z.infer<typeof pomProjectSchema>;
