import { z } from 'zod';

/**
 * A name of at most `maxLength` characters drawn from `characters`. The length is checked first,
 * and alone: a 1.5 MB name is told the limit, not that its (lowercase) letters are wrong.
 * `pattern` must match the characters only, not the length.
 */
export function boundedName(maxLength: number, pattern: RegExp, characters: string) {
  return z
    .string()
    .min(1, 'must not be empty')
    .max(maxLength, {
      error: (issue) => `must be at most ${maxLength} characters long; it has ${(issue.input as string).length}`,
      abort: true,
    })
    .regex(pattern, characters);
}

export const modelNameSchema = boundedName(
  63,
  /^[a-z0-9][a-z0-9-]*$/,
  'must be lowercase letters, digits or dashes, starting with a letter or digit',
).describe(
  'The model name, `[a-z0-9-]`, at most 63 characters: its versions, aliases and routes go by it, and it is part of workflow and schedule ids.',
);
