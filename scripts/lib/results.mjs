#!/usr/bin/env node
/**
 * Turns one suite's machine-readable output into counts for scripts/test.
 *
 *   node scripts/lib/results.mjs vitest     REPORT.json EXIT_CODE
 *   node scripts/lib/results.mjs playwright REPORT.json EXIT_CODE
 *   node scripts/lib/results.mjs tally      LOG_FILE    EXIT_CODE   (a line "N passed, N failed")
 *   node scripts/lib/results.mjs failures   vitest|playwright REPORT.json
 *
 * Prints one line: `PASSED FAILED SKIPPED NOTE…`. How a suite is counted:
 * - vitest: passed = passed tests; failed = failed tests + test files that failed without a
 *   failed test (e.g. an import error); skipped = skipped + todo.
 * - playwright: passed = expected + flaky; failed = unexpected (+ global errors); skipped = skipped.
 * - tally: the last "N passed, N failed" line of the log.
 * - In every case: a non-zero exit code with no counted failure (the suite crashed, a global
 *   setup failed, there was no report) counts as 1 failed, so the totals never hide it.
 */
import { existsSync, readFileSync } from "node:fs";

const [kind, file, exitArg] = process.argv.slice(2);

if (kind === "failures") {
  // `failures KIND REPORT`: one line per failed test (file › name: first line of the error), so
  // a failure is named in the summary even when the log above it scrolled away or was cut.
  printFailures(file, exitArg);
  process.exit(0);
}

const exitCode = Number(exitArg ?? 0);
let passed = 0, failed = 0, skipped = 0;
const notes = [];

try {
  if (!file || !existsSync(file)) {
    notes.push("no report");
  } else if (kind === "vitest") {
    const r = JSON.parse(readFileSync(file, "utf8"));
    passed = r.numPassedTests ?? 0;
    failed = r.numFailedTests ?? 0;
    skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    const brokenFiles = (r.testResults ?? []).filter(
      (t) => t.status === "failed" && !(t.assertionResults ?? []).some((a) => a.status === "failed"),
    );
    if (brokenFiles.length) {
      failed += brokenFiles.length;
      notes.push(`${brokenFiles.length} file(s) failed to run`);
    }
  } else if (kind === "playwright") {
    const r = JSON.parse(readFileSync(file, "utf8"));
    const s = r.stats ?? {};
    passed = (s.expected ?? 0) + (s.flaky ?? 0);
    failed = s.unexpected ?? 0;
    skipped = s.skipped ?? 0;
    if (s.flaky) notes.push(`${s.flaky} flaky`);
    const globalErrors = (r.errors ?? []).length;
    if (globalErrors) {
      failed += globalErrors;
      notes.push(`${globalErrors} global error(s)`);
    }
  } else if (kind === "tally") {
    const lines = readFileSync(file, "utf8").split("\n");
    const m = lines.map((l) => /(\d+) passed, (\d+) failed/.exec(l.replace(/\x1b\[[0-9;]*m/g, ""))).filter(Boolean).pop();
    if (m) {
      passed = Number(m[1]);
      failed = Number(m[2]);
    } else notes.push("no 'N passed, N failed' line");
  } else {
    notes.push(`unknown kind ${kind}`);
  }
} catch (err) {
  notes.push(`unreadable report: ${err.message}`);
}

if (exitCode !== 0 && failed === 0) {
  failed = 1;
  notes.push(`exit code ${exitCode}`);
}
console.log([passed, failed, skipped, ...notes].join(" "));

function firstLine(message) {
  const line = String(message ?? "").replace(/\x1b\[[0-9;]*m/g, "").split("\n").find((l) => l.trim()) ?? "";
  return line.trim().slice(0, 200);
}

function printFailures(suiteKind, report) {
  if (!report || !existsSync(report)) return;
  let r;
  try {
    r = JSON.parse(readFileSync(report, "utf8"));
  } catch {
    return;
  }
  const out = [];
  if (suiteKind === "vitest") {
    for (const t of r.testResults ?? []) {
      const rel = String(t.name ?? "").replace(process.cwd() + "/", "");
      const failedTests = (t.assertionResults ?? []).filter((a) => a.status === "failed");
      for (const a of failedTests) out.push(`${rel} › ${a.fullName ?? a.title}: ${firstLine(a.failureMessages?.[0])}`);
      if (t.status === "failed" && failedTests.length === 0) out.push(`${rel}: ${firstLine(t.message)}`);
    }
  } else if (suiteKind === "playwright") {
    const walk = (suite, trail) => {
      for (const spec of suite.specs ?? []) {
        for (const test of spec.tests ?? []) {
          if (test.status !== "unexpected") continue;
          const err = test.results?.at(-1)?.error?.message;
          out.push(`${spec.file ?? suite.file} › ${[...trail, spec.title].join(" › ")}: ${firstLine(err)}`);
        }
      }
      for (const child of suite.suites ?? []) walk(child, suite.title && !suite.file ? [...trail, suite.title] : trail);
    };
    for (const s of r.suites ?? []) walk(s, []);
    for (const e of r.errors ?? []) out.push(`global: ${firstLine(e.message)}`);
  }
  for (const line of out) console.log(line);
}
