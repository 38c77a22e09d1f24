import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { environmentSchema } from '../runtime/environment';
import { projectConfigSchema } from '../shared/project-config';
import { fieldRows, markdownTable, type FieldRow } from './field-table';
import { fillGeneratedBlocks } from './generated-blocks';
import { jsonSchemaFileText, shippedSchemas, toInputJsonSchema } from './json-schemas';

/**
 * Everything `npm run docs:generate` writes: the JSON Schemas under schema/ and the generated
 * tables of docs/configuration.md. A unit test compares it with the committed files.
 */
export interface GeneratedFile {
  /** Relative to the repository. */
  path: string;
  content: string;
}

const configurationDoc = 'docs/configuration.md';

export async function generatedFiles(root: string): Promise<GeneratedFile[]> {
  const doc = await readFile(join(root, configurationDoc), 'utf8');
  return [
    ...shippedSchemas.map((shipped) => ({ path: shipped.path, content: jsonSchemaFileText(shipped) })),
    {
      path: configurationDoc,
      content: fillGeneratedBlocks(doc, { config: configTables, environment: environmentTable }, configurationDoc),
    },
  ];
}

/** One section per top-level key of keel.config.json: its description, then its fields. */
function configTables(): string {
  const rows = fieldRows(toInputJsonSchema(projectConfigSchema));
  const sections: { top: FieldRow; rows: FieldRow[] }[] = [];
  for (const row of rows) {
    if (!row.path.includes('.') && !row.path.includes('[')) sections.push({ top: row, rows: [] });
    else sections[sections.length - 1].rows.push(row);
  }
  return sections
    .map(({ top, rows }) => {
      const head = `### \`${top.path}\` (${top.type}, ${top.presence})\n\n${top.meaning}`.trimEnd();
      return rows.length ? `${head}\n\n${markdownTable(rows)}` : head;
    })
    .join('\n\n');
}

function environmentTable(): string {
  return markdownTable(fieldRows(toInputJsonSchema(environmentSchema)), 'variable');
}
