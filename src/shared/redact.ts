/**
 * The one place secrets are hidden from messages, logs and errors. Pure (workflow-safe).
 *
 * - `redactUrl` shows a URL without its password and without the values of query parameters
 *   that look like credentials (`token`, `key`, `signature`…).
 * - `redactSecrets` rewrites free text: every URL's password, `password=…`, `token: …`,
 *   `Bearer …`, and any value listed in `known` (keys and passwords the process holds), wherever
 *   it appears.
 * Domain errors are written not to contain secrets; this is the second line, for messages that
 * pass on a driver's or a server's words.
 */

const MASK = '***';
const SECRET_PARAM =
  /^(password|passwd|pwd|token|access[_-]?token|secret|api[_-]?key|key|sig|signature|auth|authorization|credential|x-amz-signature)$/i;

/** A URL fit for a message: password and credential-like query values masked. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not parseable: keep only what is certainly not a secret.
    return redactSecrets(url.replace(/:\/\/[^/?#]*@/, `://${MASK}@`));
  }
  if (parsed.password) parsed.password = MASK;
  for (const name of [...parsed.searchParams.keys()]) if (SECRET_PARAM.test(name)) parsed.searchParams.set(name, MASK);
  return parsed.toString().replace(/%2A%2A%2A/g, MASK);
}

/** Free text with the secrets it may hold masked; `known` are exact values to mask too. */
export function redactSecrets(message: string, known: readonly string[] = []): string {
  let text = message
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)[^\s/@]+@/gi, `$1${MASK}@`)
    .replace(/\b((?:password|passwd|pwd|token|secret|api[_-]?key|access[_-]?key)\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&,;]+)/gi, `$1${MASK}`)
    .replace(/\b(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi, `$1${MASK}`);
  for (const secret of known) {
    // Short values would mask ordinary words; keys and passwords worth hiding are longer.
    if (secret.length >= 6) text = text.split(secret).join(MASK);
  }
  return text;
}

/** The secrets of an environment that messages must never show: passwords of URLs, keys, tokens. */
export function secretsOf(env: Readonly<Record<string, string | undefined>>): string[] {
  const secrets = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    if (/(KEY|KEYS|TOKEN|SECRET|PASSWORD)$/.test(name)) for (const part of value.split(',')) if (part.trim()) secrets.add(part.trim());
    const password = /^[a-z][a-z0-9+.-]*:\/\/[^/:@]*:([^/@]+)@/i.exec(value)?.[1];
    if (password) {
      secrets.add(password);
      try {
        secrets.add(decodeURIComponent(password));
      } catch {
        // Not percent-encoded: the raw form is enough.
      }
    }
  }
  return [...secrets];
}
