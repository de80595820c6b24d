// Packages the extension: `vsce package --no-dependencies`, with the base URLs for
// README.md's relative links taken from package.json's `repository`, including its
// `directory` (vsce's own guess drops it and would point `images/x.png` at the root
// of the repository). The README's screenshots live in ../docs/images, where the
// editor tests write them; on the Marketplace they load from the repository.
//   node scripts/package.mjs [more vsce options]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** `{content, images}` base URLs for a GitHub `repository` field; throws for anything else. */
function baseUrls(repository, branch = 'HEAD') {
  const url = typeof repository === 'string' ? repository : repository?.url;
  const match = /^(?:git\+)?https:\/\/github\.com\/([^/]+\/[^/]+?)(?:\.git)?\/?$/.exec(url ?? '');
  if (match === null) {
    throw new Error(`package.json: repository.url must be a https://github.com/OWNER/REPO URL, not ${JSON.stringify(url)}`);
  }
  const directory = typeof repository === 'object' && repository.directory ? `/${repository.directory.replace(/^\/+|\/+$/g, '')}` : '';
  const project = `https://github.com/${match[1]}`;
  return { content: `${project}/blob/${branch}${directory}`, images: `${project}/raw/${branch}${directory}` };
}

const { content, images } = baseUrls(manifest.repository);
const require = createRequire(import.meta.url);
const vsce = join(dirname(require.resolve('@vscode/vsce/package.json')), 'vsce');
const args = ['package', '--no-dependencies', '--baseContentUrl', content, '--baseImagesUrl', images, ...process.argv.slice(2)];
const result = spawnSync(process.execPath, [vsce, ...args], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
