/**
 * Vite configuration of the dashboard (`src/dashboard/app`). The server builds it in memory at
 * start (`build.ts`); `npm run dashboard:dev` serves it with hot reload, proxying the API to a
 * running Pitwall (`PITWALL_URL`, default http://127.0.0.1:3000).
 */
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const api = process.env.PITWALL_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root: new URL('./app', import.meta.url).pathname,
  plugins: [preact()],
  logLevel: 'warn',
  build: { target: 'es2022', sourcemap: false, modulePreload: { polyfill: false } },
  server: { proxy: { '/v1': { target: api, changeOrigin: false } } },
});
