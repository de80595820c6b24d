// Bundles with esbuild.
//   node scripts/build.mjs               dist/extension.js with a source map (development)
//   node scripts/build.mjs --production  dist/extension.js minified, no source map (packaging)
//   node scripts/build.mjs --tests       build/test/*.test.js, one bundle per unit test file
// Unit tests bundle the modules they test; `vscode` is not resolvable at build
// time, so a tested module that imports it fails the build instead of the run.
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const flags = new Set(process.argv.slice(2));

if (flags.has('--tests')) {
  const testDir = join(root, 'test');
  const entries = readdirSync(testDir)
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => join(testDir, name));
  rmSync(join(root, 'build'), { recursive: true, force: true });
  await build({
    entryPoints: entries,
    outdir: join(root, 'build', 'test'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // The extension smoke test runs esbuild itself.
    external: ['esbuild'],
    sourcemap: 'inline',
    logLevel: 'warning',
  });
} else {
  const production = flags.has('--production');
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  await build({
    entryPoints: [join(root, 'src', 'extension.ts')],
    outfile: join(root, 'dist', 'extension.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    // VS Code 1.90 runs extensions on Node 18 (Electron 29).
    target: 'node18',
    external: ['vscode'],
    minify: production,
    sourcemap: production ? false : 'linked',
    logLevel: 'warning',
  });
}
