// Compiles Pitwall's TypeScript sources to plain JavaScript, file by file, into a cache beside the
// installed packages (node_modules/.cache/pitwall-js), so the `pitwall` bin starts without a
// TypeScript loader (ADR 0021). Only files whose size or modification time changed since the last
// run are compiled again (by content hash); a cold cache takes a fraction of a second. Each file is transformed by esbuild
// exactly as tsx would (same tsconfig), with two changes: relative `.ts` specifiers become `.js`,
// and `import.meta.url` is the source file's URL, so files a module reads next to itself (workers,
// configs, examples) are found in src/. Plain JS: this runs before anything can load TypeScript.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = path.join(ROOT, 'src');
/** Bump when the transform below changes: every file is compiled again. */
const FORMAT = 1;

/** Where the compiled tree lives: inside the project's node_modules, so bare imports resolve from there. */
export function cacheRoot() {
  return path.join(ROOT, 'node_modules', '.cache', 'pitwall-js');
}

function sources(dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)"(\.{1,2}\/[^"\n]*?)\.ts"/g;

function writeAtomic(file, text) {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/**
 * Brings the compiled tree up to date and returns the file URL of `src/<entry>.js` in it, or
 * undefined when the cache cannot be written (a read-only install): the caller falls back to tsx.
 */
export async function compiledEntry(entry = 'cli/index.ts') {
  const out = cacheRoot();
  try {
    const { transform, version } = await import('esbuild');
    const tsconfig = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8'));
    // The compiled files name their sources by absolute URL: a copied or moved project compiles anew.
    const stamp = `${FORMAT}:${version}:${ROOT}:${JSON.stringify(tsconfig.compilerOptions)}`;
    const manifestFile = path.join(out, 'manifest.json');
    let manifest = { stamp, files: {} };
    if (existsSync(manifestFile)) {
      try {
        const m = JSON.parse(readFileSync(manifestFile, 'utf8'));
        if (m.stamp === stamp) manifest = m;
      } catch {
        // A damaged manifest: compile everything again.
      }
    }
    const files = {};
    const todo = [];
    for (const file of sources(SRC)) {
      const rel = path.relative(ROOT, file);
      const text = readFileSync(file, 'utf8');
      // By content, not modification time: a copy that keeps times, or two edits in one tick, still counts.
      const key = createHash('sha1').update(text).digest('hex');
      files[rel] = key;
      const target = path.join(out, rel.replace(/\.ts$/, '.js'));
      if (manifest.files[rel] !== key || !existsSync(target)) todo.push({ file, text, target });
    }
    await Promise.all(
      todo.map(async ({ file, text, target }) => {
        const { code } = await transform(text, {
          loader: 'ts',
          format: 'esm',
          target: 'node20',
          sourcefile: file,
          tsconfigRaw: { compilerOptions: tsconfig.compilerOptions },
          define: { 'import.meta.url': JSON.stringify(pathToFileURL(file).href) },
        });
        writeAtomic(target, code.replace(SPECIFIER, '$1"$2.js"'));
      }),
    );
    for (const rel of Object.keys(manifest.files))
      if (!(rel in files)) rmSync(path.join(out, rel.replace(/\.ts$/, '.js')), { force: true });
    if (todo.length > 0 || Object.keys(manifest.files).length !== Object.keys(files).length)
      writeAtomic(manifestFile, JSON.stringify({ stamp, files }));
    return pathToFileURL(path.join(out, 'src', entry.replace(/\.ts$/, '.js'))).href;
  } catch (e) {
    if (process.env.PITWALL_DEBUG) console.error(`pitwall: compiling to ${out} failed, running through tsx: ${e.message}`);
    return undefined;
  }
}
