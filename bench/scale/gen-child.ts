/**
 * Writes one chunk file of a scale run in this process and prints one JSON line (chunk-writer.ts's
 * `ChunkFile`), so several chunks can be generated at once on several cores:
 *
 *   node --import tsx bench/scale/gen-child.ts FILE CHUNK_JSON ID_WIDTH SHUFFLE(0|1)
 */
import { writeChunk } from './chunk-writer.js';
import type { ChunkPlan } from './plan.js';

const [file, chunkJson, idWidth, shuffle] = process.argv.slice(2);
try {
  const result = writeChunk(file, JSON.parse(chunkJson) as ChunkPlan, Number(idWidth), shuffle === '1');
  process.stdout.write(JSON.stringify(result) + '\n');
} catch (err) {
  process.stderr.write(`gen-child: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
