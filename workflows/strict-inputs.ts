import { patched } from '@temporalio/workflow';

/**
 * Inputs and signals are strict: an unknown key fails the workflow (or the signal is ignored).
 * Runs started before that dropped unknown keys; their histories replay as they ran, so this is
 * asked (and the patch marker written) only when an input has unknown keys.
 */
export function acceptsUnknownKeys(): boolean {
  return !patched('strict-inputs');
}
