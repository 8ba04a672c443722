// Two fixes to what typedoc reads from the sources:
// - each module of the API reference is named after the import a user writes
//   (`@org/cache/redis`) instead of its path in the repository (`cache/src/redis`);
// - "@org" in running text (as in "every @org package") is read by typedoc as an unknown block
//   tag, which would cut the sentence in two; the text is joined back where it was.
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Converter, ReflectionKind } from 'typedoc';
import { entryPoints } from '../typedoc.config.mjs';

/** @param {import('typedoc').Comment | undefined} comment */
function rejoinOrgTags(comment) {
  if (!comment?.blockTags.some((t) => t.tag === '@org')) return;
  const kept = [];
  let target = comment.summary;
  for (const tag of comment.blockTags) {
    if (tag.tag !== '@org') {
      kept.push(tag);
      target = tag.content;
      continue;
    }
    const first = tag.content[0];
    const glued =
      first?.kind === 'text' && /^[/\w-]/.test(first.text) && first.text.startsWith('/');
    target.push({ kind: 'text', text: glued ? ' @org' : ' @org ' }, ...tag.content);
  }
  comment.blockTags = kept;
}

const packages = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'packages');

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.on('bootstrapEnd', () => {
    // Known to typedoc, so it does not warn; rejoined below before anything is rendered.
    const tags = app.options.getValue('blockTags');
    if (!tags.includes('@org')) app.options.setValue('blockTags', [...tags, '@org']);
  });
  // typedoc's default name is the path below the common base: `cache/src`, `cache/src/redis`.
  const byPath = new Map(
    entryPoints().map((e) => [
      relative(packages, e.file)
        .replace(/\.ts$/, '')
        .replace(/\/index$/, ''),
      e.name,
    ]),
  );
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const mod of context.project.getReflectionsByKind(ReflectionKind.Module)) {
      const name = byPath.get(mod.name);
      if (name) mod.name = name;
    }
    for (const r of Object.values(context.project.reflections)) {
      rejoinOrgTags(r.comment);
      if ('signatures' in r) for (const s of r.signatures ?? []) rejoinOrgTags(s.comment);
    }
  });
}
