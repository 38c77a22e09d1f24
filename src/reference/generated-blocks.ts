/**
 * Hand-written Markdown with generated parts: each sits between `<!-- generated:NAME -->` and
 * `<!-- /generated -->`, and only what lies between the two is replaced, so prose around the
 * tables stays the author's.
 */
const block = /(<!-- generated:([\w.-]+) -->)[\s\S]*?(<!-- \/generated -->)/g;

/** `markdown` with every block's body replaced by `render(name)`; an unknown name is an error. */
export function fillGeneratedBlocks(markdown: string, renderers: Record<string, () => string>, file: string): string {
  const missing = new Set(Object.keys(renderers));
  const filled = markdown.replace(block, (_whole, open: string, name: string, close: string) => {
    const render = renderers[name];
    if (!render) throw new Error(`${file}: unknown generated block "${name}" (known: ${Object.keys(renderers).join(', ')})`);
    missing.delete(name);
    return `${open}\n${render().trim()}\n${close}`;
  });
  if (missing.size > 0) throw new Error(`${file}: no <!-- generated:${[...missing][0]} --> … <!-- /generated --> block`);
  return filled;
}
