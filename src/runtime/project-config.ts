import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { TrainerCommands } from '../ml/trainer-commands';
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

/** The registered trainer commands of a config file, their `dir` resolved from the file's directory. */
export function trainerCommandsOf(config: Pick<ProjectConfig, 'trainers'>, configPath: string): TrainerCommands {
  const base = dirname(configPath);
  return Object.fromEntries(
    Object.entries(config.trainers).map(([name, t]) => [name, { argv: t.command, dir: resolve(base, t.dir ?? '.'), passEnv: t.env }]),
  );
}

/** The trainer commands a worker offers: those of the config file, or none when there is no file. */
export async function loadTrainerCommands(configPath: string): Promise<TrainerCommands> {
  if (!existsSync(configPath)) return {};
  return trainerCommandsOf(await loadProjectConfig(configPath), configPath);
}
