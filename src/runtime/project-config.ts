import { readFile } from 'node:fs/promises';
import { InvalidInputError } from '../shared/errors';
import { projectConfigSchema, type ProjectConfig } from '../shared/project-config';
import { parseOrThrow } from '../shared/validation';

export async function loadProjectConfig(path: string): Promise<ProjectConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InvalidInputError(`cannot read the config file ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`the config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return parseOrThrow(projectConfigSchema, json, `config file ${path}`, (message) => new InvalidInputError(message));
}
