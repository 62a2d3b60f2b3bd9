// Prints vitest's result counts as the plain closing line CI reads: "tests: N passed, N failed, N skipped".
// A file whose setup (beforeAll) threw reports its tests as skipped: those count as failed here.
import { readFileSync } from "node:fs";

const r = JSON.parse(readFileSync(process.argv[2] ?? ".vitest-results.json", "utf8"));
let failed = r.numFailedTests ?? 0;
let skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
for (const file of r.testResults ?? []) {
  if (file.status !== "failed") continue;
  const notRun = file.assertionResults.filter((t) => t.status === "pending" || t.status === "skipped").length;
  const anyFailed = file.assertionResults.some((t) => t.status === "failed");
  if (!anyFailed) {
    failed += Math.max(notRun, 1);
    skipped -= notRun;
  }
}
console.log(`tests: ${r.numPassedTests} passed, ${failed} failed, ${skipped} skipped`);
