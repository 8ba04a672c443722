import { Readable, type Transform } from 'node:stream';
import { ReadableStream, type TransformStream } from 'node:stream/web';

/** Feeds `pieces` through `stage` and collects its output. */
export async function through(stage: Transform, pieces: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  const source = Readable.from(pieces, { objectMode: false });
  source.pipe(stage);
  source.on('error', (err) => stage.destroy(err));
  for await (const chunk of stage) out.push(chunk as Buffer);
  return Buffer.concat(out);
}

/** Splits `data` at the given cut points (taken modulo its length, sorted). */
export function splitAt(data: Buffer, cuts: number[]): Buffer[] {
  if (data.length === 0) return [data];
  const at = [...new Set(cuts.map((c) => c % data.length))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const c of at) {
    if (c > from) pieces.push(data.subarray(from, c));
    from = Math.max(from, c);
  }
  pieces.push(data.subarray(from));
  return pieces;
}

/** Feeds `pieces` through a Web TransformStream and collects its output. */
export async function throughWeb(
  stage: TransformStream<Uint8Array, Uint8Array>,
  pieces: Uint8Array[],
): Promise<Buffer> {
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const p of pieces) controller.enqueue(p);
      controller.close();
    },
  });
  const out: Uint8Array[] = [];
  for await (const chunk of source.pipeThrough(stage)) out.push(chunk);
  return Buffer.concat(out);
}
