#!/usr/bin/env node
// `npm run bench`: every benchmark under dist/bench/ that exports main(), one after another.
const benches = ['throughput.js', 'rules.js', 'packet_bench.js', 'chaos.js'];
for (const name of benches) {
  const url = new URL(`../dist/bench/${name}`, import.meta.url);
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
