import { modelNameSchema } from '../shared/names';

/**
 * A registry operation refused for a reason the caller can fix (bad name, unknown version,
 * alias to a deleted version, ...). The message says what and why; retrying does not help.
 */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
}

/**
 * Model names end up in workflow ids, schedule ids, URLs and (for some stores) object keys, so
 * they are restricted to the workflow input's `[a-z0-9-]` rule; path separators and `..` get a
 * message of their own, since they are the dangerous mistake.
 */
export function validateModelName(name: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new RegistryError('a model name is required');
  if (/[/\\]/.test(name))
    throw new RegistryError(`invalid model name ${JSON.stringify(name)}: it must not contain path separators (/ or \\)`);
  if (name.includes('..')) throw new RegistryError(`invalid model name ${JSON.stringify(name)}: it must not contain ".."`);
  const parsed = modelNameSchema.safeParse(name);
  if (!parsed.success) throw new RegistryError(`invalid model name ${JSON.stringify(name)}: ${parsed.error.issues[0]?.message}`);
  return name;
}

/** An alias starts with a letter, so `model@3` (a version) and `model@prod` (an alias) never clash. */
export function validateAlias(alias: string): string {
  if (!/^[a-z][a-z0-9_-]{0,62}$/.test(alias)) {
    throw new RegistryError(
      `invalid alias ${JSON.stringify(alias)}: must be 1-63 lowercase letters, digits, "-" or "_", starting with a letter`,
    );
  }
  if (alias === 'latest') throw new RegistryError('"latest" is reserved: it always means the newest version');
  return alias;
}

export function validateVersion(version: number): number {
  if (!Number.isInteger(version) || version < 1) throw new RegistryError(`invalid version ${version}: versions are integers from 1`);
  return version;
}

/** `name@3`, `name@production`, `name@latest` or `name` (= latest). */
export type ModelRef = { model: string; version: number } | { model: string; alias: string } | { model: string; latest: true };

export function parseModelRef(text: string): ModelRef {
  const at = text.lastIndexOf('@');
  const model = validateModelName(at === -1 ? text : text.slice(0, at));
  if (at === -1) return { model, latest: true };
  const selector = text.slice(at + 1);
  if (selector === 'latest') return { model, latest: true };
  if (/^v?\d+$/.test(selector)) return { model, version: validateVersion(Number(selector.replace(/^v/, ''))) };
  if (selector === '') throw new RegistryError(`"${text}": give a version or an alias after "@" (e.g. ${model}@3 or ${model}@production)`);
  return { model, alias: validateAlias(selector) };
}

export function formatRef(ref: ModelRef): string {
  if ('version' in ref) return `${ref.model}@${ref.version}`;
  if ('alias' in ref) return `${ref.model}@${ref.alias}`;
  return `${ref.model}@latest`;
}
