export { Metrics } from './metrics.ts';
export { choosePort, portFree } from './ports.ts';
