// Builds the dashboard with Vite in a worker thread (so Vite and its bundler load, run and are
// freed off the server's event loop) and posts the output files back. Plain JS: it runs without tsx.
import { parentPort, workerData } from 'node:worker_threads';

const { build } = await import('vite');
const result = await build({ configFile: workerData.configFile, logLevel: 'silent', build: { write: false } });
const outputs = (Array.isArray(result) ? result : [result]).flatMap((r) => r.output);
parentPort?.postMessage(outputs.map((o) => ({ fileName: o.fileName, data: o.type === 'chunk' ? o.code : o.source })));
