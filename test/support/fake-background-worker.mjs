// A stand-in for src/background-worker.ts that speaks its protocol (src/background-protocol.ts), for
// testing the host's supervision: it counts its starts and the messages it got in files under the
// data dir; the first one dies shortly after it said it was ready.
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

const dir = workerData.config.dataDir;
appendFileSync(path.join(dir, 'starts'), 'x');
const start = readFileSync(path.join(dir, 'starts'), 'utf8').length;
parentPort.on('message', (m) => {
  appendFileSync(path.join(dir, 'received'), `${start} ${m.t}\n`);
  if (m.t === 'caughtUp') parentPort.postMessage({ t: 'caughtUp', id: m.id });
  if (m.t === 'stop') parentPort.postMessage({ t: 'stopped' });
});
parentPort.postMessage({ t: 'ready' });
if (start === 1) setTimeout(() => process.exit(3), 20);
