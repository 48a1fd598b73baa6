// `plumbline schema`: the JSON Schema of plumbline.yaml documents, for editors.
import type { Command } from 'commander';
import { writeOutput } from './output.js';

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of plumbline.yaml documents (for editor completion and validation)')
    .option('--output <file>', 'write it to a file instead of stdout')
    .addHelpText(
      'after',
      `
Examples:
  plumbline schema --output .plumbline/schema.json
  # then, first line of plumbline.yaml:  # yaml-language-server: $schema=.plumbline/schema.json`,
    )
    .action(async (opts: { output?: string }) => {
      const { configJsonSchema } = await import('../config/jsonschema.js');
      writeOutput(opts.output, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });
}
