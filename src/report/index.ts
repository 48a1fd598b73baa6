// The reporter registry: every output format Plumbline can write, by name.
import { jsonReporter } from './json.js';
import { junitReporter } from './junit.js';
import { markdownReporter } from './markdown.js';
import { sarifReporter } from './sarif.js';
import { textReporter } from './text.js';
import type { Reporter, ReportFormat } from './types.js';

export const REPORTERS: Readonly<Record<ReportFormat, Reporter>> = Object.freeze({
  text: textReporter,
  json: jsonReporter,
  sarif: sarifReporter,
  markdown: markdownReporter,
  junit: junitReporter,
});

/** The reporter for a format name as typed by a user; undefined for unknown names (including `toString`). */
export function getReporter(name: string): Reporter | undefined {
  return isReportFormat(name) ? REPORTERS[name] : undefined;
}

export function isReportFormat(name: string): name is ReportFormat {
  return Object.hasOwn(REPORTERS, name);
}
