export { type DashboardBuild, type DashboardFile, dashboardBuild } from './build.ts';
export { familyOf, type StreamBatch, StreamHub } from './stream.ts';
