// A stand-in for `dlm lsp` in the extension's integration test: it speaks LSP
// over stdio, offers the server commands lsp/features/loop.py registers, and logs
// every message it receives (one JSON object a line) to $FAKE_SERVER_LOG.
// `dlm.minePreferences` reports work-done progress the way the real server
// relays the miner's lines, and ends it when the client cancels.
// Run as `... train PATH --watch --progress jsonl`, it stands in for Train on Save:
// the JSON lines of one run, then waiting until Ctrl-C (SIGINT), then "stopped".
'use strict';
const fs = require('node:fs');

if (process.argv.includes('--watch')) {
  const line = (event, stage, message, extra = {}) =>
    process.stderr.write(JSON.stringify({ event, stage, done: extra.done ?? 0, total: extra.total ?? 0, message, ...extra }) + '\n');
  process.stdout.write(`argv: ${JSON.stringify(process.argv.slice(2))}\n`);
  line('training', 'watch', 'Training notes.dlm.');
  line('progress', 'train', 'loss 1.000', { done: 1, total: 2 });
  line('trained', 'watch', 'Trained notes.dlm: adapter v0001.', { version: 'v0001' });
  line('waiting', 'watch', 'Watching notes.dlm for changes (Ctrl-C to stop).');
  process.on('SIGINT', () => {
    line('stopped', 'watch', 'Stopped watching.');
    process.exit(0);
  });
  setInterval(() => undefined, 1000);
  return;
}

const log = process.env.FAKE_SERVER_LOG;
let buffer = Buffer.alloc(0);
let nextId = 1;
const pending = new Map();
const mining = new Map();

function send(message) {
  const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...message }), 'utf8');
  process.stdout.write(`Content-Length: ${body.length}\r\n\r\n`);
  process.stdout.write(body);
}

function request(method, params) {
  const id = `s${nextId++}`;
  send({ id, method, params });
  return new Promise((resolve) => pending.set(id, resolve));
}

async function mine(id, args) {
  const token = `dlm-mine-${args[1]}`;
  await request('window/workDoneProgress/create', { token });
  send({ method: '$/progress', params: { token, value: { kind: 'begin', title: 'Mining preferences', cancellable: true, message: 'notes.dlm (sway)' } } });
  send({ method: '$/progress', params: { token, value: { kind: 'report', message: 'sample 3/8', percentage: 37 } } });
  mining.set(token, id);
}

function handle(message) {
  if (log) fs.appendFileSync(log, JSON.stringify(message) + '\n');
  if (message.id !== undefined && message.method === undefined) {
    pending.get(message.id)?.(message.result);
    pending.delete(message.id);
    return;
  }
  switch (message.method) {
    case 'initialize':
      send({
        id: message.id,
        result: {
          capabilities: {
            textDocumentSync: 1,
            codeActionProvider: { codeActionKinds: ['quickfix', 'source'] },
            executeCommandProvider: { commands: ['dlm.minePreferences', 'dlm.applyStaged', 'dlm.revertMined', 'dlm.refreshStaged'] },
          },
          serverInfo: { name: 'fake-dlm', version: '0' },
        },
      });
      break;
    case 'textDocument/codeAction': {
      const uri = message.params.textDocument.uri;
      const line = message.params.range.start.line;
      // Line 1 and below is "inside the instruction section".
      const result = line >= 1
        ? [{ title: 'Mine preferences here (1 question)', kind: 'source', command: { title: 'Mine preferences here', command: 'dlm.minePreferences', arguments: [uri, 'abcdef0123456789'] } }]
        : [];
      send({ id: message.id, result });
      break;
    }
    case 'workspace/executeCommand':
      if (message.params.command === 'dlm.minePreferences') {
        void mine(message.id, message.params.arguments);
      } else {
        send({ id: message.id, result: null });
      }
      break;
    case 'window/workDoneProgress/cancel': {
      const token = message.params.token;
      const id = mining.get(token);
      if (id !== undefined) {
        mining.delete(token);
        send({ method: '$/progress', params: { token, value: { kind: 'end', message: 'Cancelled' } } });
        send({ id, result: null });
      }
      break;
    }
    case 'shutdown':
      send({ id: message.id, result: null });
      break;
    case 'exit':
      process.exit(0);
      break;
    default:
      if (message.id !== undefined) send({ id: message.id, result: null });
  }
}

process.stdin.on('data', (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  for (;;) {
    const headerEnd = buffer.indexOf('\r\n\r\n');
    if (headerEnd < 0) return;
    const length = Number(/Content-Length: (\d+)/i.exec(buffer.subarray(0, headerEnd).toString('ascii'))?.[1]);
    if (buffer.length < headerEnd + 4 + length) return;
    const body = buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8');
    buffer = buffer.subarray(headerEnd + 4 + length);
    handle(JSON.parse(body));
  }
});
process.stdin.on('end', () => process.exit(0));
