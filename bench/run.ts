/**
 * `npm run bench -- <name> [--quick]`: runs one benchmark and prints, as its last line,
 * one JSON object with its figures, its same-run baseline and the ratio.
 */
const names = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const quick = process.argv.includes('--quick');

const benches: Record<string, () => Promise<Record<string, unknown>>> = {
  ingest: async () => (await import('./ingest.ts')).runIngestBench({ quick }),
  track: async () => (await import('./ingest.ts')).runTrackBench({ quick }),
  mqtt: async () => (await import('./mqtt.ts')).runMqttBench({ quick }),
  timers: async () => (await import('./timers.ts')).runTimersBench({ quick }),
  projections: async () => (await import('./projections.ts')).runProjectionsBench({ quick }),
  risk: async () => (await import('./risk.ts')).runRiskBench({ quick }),
  widget: async () => (await import('./widget.ts')).runWidgetBench({ quick }),
  decide: async () => (await import('./decide.ts')).runDecideBench({ quick }),
  actions: async () => (await import('./actions.ts')).runActionsBench({ quick }),
  reports: async () => {
    const flag = process.argv.find((x) => x.startsWith('--events='));
    const events = flag ? Number(flag.slice('--events='.length)) : undefined;
    return (await import('./reports.ts')).runReportsBench({ quick, ...(events ? { events } : {}) });
  },
};

const name = names[0];
const bench = name ? benches[name] : undefined;
if (!bench) {
  console.error(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [--quick]`);
  process.exit(2);
}
const result = await bench();
console.log(JSON.stringify(result));
process.exit(0);
