/** Every command prints either readable text or, with --json, one JSON document. */
export function printResult(json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write(`${json ? JSON.stringify(value, null, 2) : text()}\n`);
}
