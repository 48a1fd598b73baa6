// JSON Schema for editors (yaml-language-server, VS Code): one schema accepting any Plumbline document.
import { z } from 'zod';
import { DOCUMENT_SCHEMAS } from './schema.js';

export function configJsonSchema(): Record<string, unknown> {
  const kinds = Object.values(DOCUMENT_SCHEMAS);
  const union =
    kinds.length === 1 ? (kinds[0] as z.ZodType) : z.union(kinds as unknown as [z.ZodType, z.ZodType]);
  const schema = z.toJSONSchema(union, { io: 'input', unrepresentable: 'any' });
  return {
    ...schema,
    $id: 'https://plumbline.dev/schemas/v1alpha1/plumbline.json',
    title: 'Plumbline configuration document',
  };
}
