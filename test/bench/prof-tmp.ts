import { benchPipeline } from './pipeline-bench.js';

const r = await benchPipeline(100000);
console.log(JSON.stringify(r));
