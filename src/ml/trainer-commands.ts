import { isAbsolute, resolve } from 'node:path';
import { InvalidInputError } from '../shared/errors';

/**
 * The programs a `command` trainer may run: registered by the operator in keel.config.json
 * (`trainers`), named by the pipeline input. An input can choose among them and pass params, but
 * cannot run anything else (docs/security.md).
 */
export interface TrainerCommand {
  /** Program and arguments; an argument with a `/` that is not absolute is relative to `dir`. */
  argv: string[];
  /** Directory the argv's relative paths start from (default: the config file's directory). */
  dir: string;
  /** Environment variables passed on to the program, beyond the minimal environment. */
  passEnv: string[];
}

export type TrainerCommands = Record<string, TrainerCommand>;

/** Who the program runs as (KEEL_TRAINER_USER): numeric uid and gid. */
export interface TrainerUser {
  uid: number;
  gid: number;
}

/** The registered command an input names, with its argv's relative paths resolved; or a refusal. */
export function registeredCommand(field: string, command: string | string[], trainers: TrainerCommands): TrainerCommand {
  const names = Object.keys(trainers);
  const known = `registered in keel.config.json \`trainers\`: ${names.length ? names.join(', ') : '(none)'}`;
  if (typeof command !== 'string') {
    throw new InvalidInputError(`${field}: a program and its arguments are refused; name a trainer command instead (${known})`);
  }
  const found = trainers[command];
  if (!found) throw new InvalidInputError(`${field}: "${command}" is not a registered trainer command (${known})`);
  return { ...found, argv: found.argv.map((arg) => (arg.includes('/') && !isAbsolute(arg) ? resolve(found.dir, arg) : arg)) };
}

/** The environment a trainer program gets: enough to run, nothing of keel's (no DATABASE_URL, no keys). */
export function trainerEnvironment(env: NodeJS.ProcessEnv, dir: string, passEnv: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {
    PATH: env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: dir,
    TMPDIR: dir,
    LANG: env.LANG ?? 'C.UTF-8',
  };
  for (const name of passEnv) {
    const value = env[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** KEEL_TRAINER_USER: `uid` or `uid:gid` (numbers); the problem as a string otherwise. */
export function parseTrainerUser(value: string): TrainerUser | string {
  const match = /^(\d+)(?::(\d+))?$/.exec(value.trim());
  if (!match) return 'must be uid or uid:gid, numbers (see `id -u <user>`)';
  const uid = Number(match[1]);
  return { uid, gid: match[2] === undefined ? uid : Number(match[2]) };
}
