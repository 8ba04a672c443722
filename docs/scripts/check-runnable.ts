// `pnpm --filter @org/docs check`: type-checks and runs every ```ts runnable block of the site.
import { allRunnableBlocks, runBlock, typecheckBlocks, writeBlocks } from './runnable.js';

const blocks = allRunnableBlocks();
const files = writeBlocks(blocks);
await typecheckBlocks();
let failed = 0;
// A few at a time: each is a tsx process of its own.
const queue = [...files];
await Promise.all(
  Array.from({ length: 4 }, async () => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      try {
        await runBlock(file);
      } catch (err) {
        console.error((err as Error).message);
        failed++;
      }
    }
  }),
);
if (failed > 0) process.exit(1);
console.log(`${blocks.length} runnable blocks type-check and run`);
