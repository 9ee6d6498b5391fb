/**
 * An LA's upload client, run in its own process (forked by bench/upload.ts) as a real LA's is on
 * its own machine: streaming a 47 MB file in and reading a 17 MB acknowledgement back are the
 * client's work, and must not be counted against the service's event loop.
 */
import { createReadStream } from 'node:fs';

interface UploadJob {
  url: string;
  token: string;
  path: string;
}

if (process.send) {
  process.once('disconnect', () => process.exit(0));
  process.once('message', async (job: UploadJob) => {
    try {
      const res = await fetch(job.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${job.token}` },
        body: createReadStream(job.path) as unknown as ReadableStream,
        duplex: 'half',
      } as RequestInit);
      const ack = (await res.json()) as { fileCode: string; accepted: number; received: number };
      process.send!(
        { ok: true, ack: { fileCode: ack.fileCode, accepted: ack.accepted, received: ack.received } },
        () => process.exit(0),
      );
    } catch (err) {
      process.send!({ ok: false, error: (err as Error).stack ?? String(err) }, () => process.exit(1));
    }
  });
}
