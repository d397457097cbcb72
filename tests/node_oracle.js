// Test oracle: reads one JSON request per line ({"expr": "..."}) and answers one JSON line
// ({"ok": value} or {"error": "Name: message"}). The expression sees Buffer, crypto and querystring.
'use strict';
const readline = require('readline');
const vm = require('vm');
const sandbox = { Buffer, crypto: require('crypto'), querystring: require('querystring'),
                  atob, btoa, TextEncoder, TextDecoder };
vm.createContext(sandbox);
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let out;
  try {
    const { expr } = JSON.parse(line);
    const value = vm.runInContext(expr, sandbox);
    out = { ok: value === undefined ? null : value };
  } catch (e) {
    out = { error: `${e && e.name}: ${e && e.message}` };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
});
