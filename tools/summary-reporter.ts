/** Prints `N passed, N failed, N skipped` as the very last line of a test run: CI reads that line. */
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const m of modules) {
      const tests = [...m.children.allTests()];
      for (const t of tests) {
        const s = t.result().state;
        if (s === 'passed') passed++;
        else if (s === 'failed') failed++;
        else skipped++;
      }
      // A file that failed to load has no tests to count: count the file itself as a failure.
      if (m.state() === 'failed' && tests.every((t) => t.result().state !== 'failed')) failed++;
    }
    // Errors outside any test (global setup, unhandled rejections) also fail the run.
    failed += errors.length;
    // Defer past the default reporter's own summary so this stays the last line.
    setImmediate(() => process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`));
  }
}
