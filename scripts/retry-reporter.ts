import type { Reporter, TestCase } from 'vitest/node';

/**
 * CI retries a failed test once (vitest.config.ts). A test that passes only on its retry is flaky: this reporter names
 * it on a `FLAKY` line, which .ci/run copies into its summary, so a retry never hides a flaky test.
 */
export default class RetryReporter implements Reporter {
  onTestCaseResult(testCase: TestCase): void {
    const retries = testCase.diagnostic()?.retryCount ?? 0;
    if (retries > 0 && testCase.result().state === 'passed') {
      console.log(`FLAKY (passed on retry ${retries}): ${testCase.module.relativeModuleId} > ${testCase.fullName}`);
    }
  }
}
