/**
 * Long work on the service's one thread (reading a 250,000-record upload, sealing its audit entries)
 * must not hold health queries behind it: it gives way to waiting I/O every few milliseconds.
 * `await giveWay()` in a loop costs a clock read per turn, and a trip round the event loop only
 * when the slice is used up.
 */
export function loopSharer(sliceMs = 4): () => Promise<void> | undefined {
  let since = performance.now();
  return () => {
    if (performance.now() - since < sliceMs) return undefined;
    return new Promise((resolve) =>
      setImmediate(() => {
        since = performance.now();
        resolve();
      }),
    );
  };
}
