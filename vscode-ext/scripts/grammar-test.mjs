// Runs vscode-tmgrammar-test on test/grammar/*.dlm (with a YAML grammar for the
// embedded frontmatter), passes its report through, and ends with one
// "N passed, N failed" line. A time limit turns a runaway regex into a failure.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const tool = join(dirname(require.resolve('vscode-tmgrammar-test/package.json')), 'dist', 'unit.js');
const yaml = require.resolve('tm-grammars/grammars/yaml.json');
const LIMIT_MS = 5 * 60 * 1000;

const child = spawn(process.execPath, [tool, '--grammar', yaml, 'test/grammar/*.dlm'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
let output = '';
child.stdout.setEncoding('utf8');
child.stdout.on('data', (chunk) => {
  output += chunk;
  process.stdout.write(chunk);
});
const timer = setTimeout(() => {
  console.error(`vscode-tmgrammar-test ran for more than ${LIMIT_MS / 1000} s; stopping it.`);
  child.kill('SIGKILL');
}, LIMIT_MS);
child.on('close', (code, signal) => {
  clearTimeout(timer);
  const passed = (output.match(/^✓ /gm) ?? []).length;
  const failed = (output.match(/^✖ /gm) ?? []).length;
  console.log(`grammar: ${passed} passed, ${failed} failed`);
  process.exit(code === 0 && signal === null && failed === 0 && passed > 0 ? 0 : 1);
});
