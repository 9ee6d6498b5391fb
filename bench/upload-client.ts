/**
 * An LA's upload client, run in its own process (forked by bench/upload.ts) as a real LA's is on
 * its own machine: streaming a 47 MB file in and reading a 17 MB acknowledgement back are the
 * client's work, and must not be counted against the service's event loop. It says when it is
 * ready (so its start is not timed), then sends each file it is asked to, one at a time.
 */
import { createReadStream } from 'node:fs';

export interface UploadJob {
  url: string;
  token: string;
  path: string;
}

export type UploadReply =
  | { ok: true; ack: { fileCode: string; accepted: number; received: number } }
  | { ok: false; error: string };

async function send(job: UploadJob): Promise<UploadReply> {
  try {
    const res = await fetch(job.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${job.token}` },
      body: createReadStream(job.path) as unknown as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    const ack = (await res.json()) as { fileCode: string; accepted: number; received: number };
    return { ok: true, ack: { fileCode: ack.fileCode, accepted: ack.accepted, received: ack.received } };
  } catch (err) {
    return { ok: false, error: (err as Error).stack ?? String(err) };
  }
}

if (process.send) {
  process.once('disconnect', () => process.exit(0));
  process.on('message', async (job: UploadJob) => process.send!(await send(job)));
  process.send({ ready: true });
}
