#!/usr/bin/env node
// `npm run bench`: the benchmarks under dist/bench/ that export main(), one after another
// (names on the command line choose: `node scripts/run_bench.mjs rules`); prints the total time.
const all = ['packet_bench', 'chaos', 'throughput']; // throughput last: its summary table ends the output
const chosen = process.argv.slice(2);
const t0 = performance.now();
for (const name of chosen.length ? chosen : all) {
  const url = new URL(`../dist/bench/${name}.js`, import.meta.url);
  let mod;
  try {
    mod = await import(url.href);
  } catch (err) {
    console.log(`${name}: not available (${err.code ?? err.message})`);
    continue;
  }
  console.log(`\n== ${name}`);
  await mod.main();
}
console.log(`\nbench: ${((performance.now() - t0) / 1000).toFixed(0)} s in all`);
