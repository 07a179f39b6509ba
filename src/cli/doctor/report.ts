/**
 * Doctor results: one line per check (`ok`, `warn`, `FAIL`) and, for problems, the exact fix.
 * @module
 */

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  /** The command or change that fixes a warn/fail. */
  fix?: string | undefined;
}

const LABEL: Readonly<Record<CheckStatus, string>> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };

/** The printed report, a verdict line included. */
export function formatReport(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.name.length));
  let out = '';
  for (const r of results) {
    out += `${LABEL[r.status]}  ${r.name.padEnd(width)}  ${r.detail}\n`;
    if (r.fix && r.status !== 'ok') out += `      ${' '.repeat(width)}  fix: ${r.fix}\n`;
  }
  const fails = results.filter((r) => r.status === 'fail').length;
  const warns = results.filter((r) => r.status === 'warn').length;
  out += fails === 0
    ? `\ndivert is usable here${warns ? ` (${warns} warning${warns === 1 ? '' : 's'})` : ''}.\n`
    : `\ndivert is not usable here yet: ${fails} problem${fails === 1 ? '' : 's'} to fix.\n`;
  return out;
}

/** 0 when nothing failed, else 1. */
export function reportExitCode(results: readonly CheckResult[]): number {
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}
