export { Metrics } from './metrics.ts';
export { choosePort, portFree } from './ports.ts';
export { redactUrl } from './redact.ts';
