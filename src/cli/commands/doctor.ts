/**
 * `divert doctor`: is this machine ready for divert? Prints ok/warn/FAIL per check with the
 * exact fix; exit 0 when divert is usable (no FAIL).
 * @module
 */
import { parseArgs } from 'node:util';
import type { CliIo } from '../io.js';
import { reportError } from '../report_error.js';
import { CAP_NET_ADMIN, CAP_SYS_ADMIN, hasCapability } from '../../_native/capability.js';
import { checkNative, checkBinaries, checkKernelConfig, checkLive, checkPrivileges, checkUserNamespaces } from '../doctor/checks.js';
import { formatReport, reportExitCode, type CheckResult } from '../doctor/report.js';

export const DOCTOR_HELP = `Usage: divert doctor [--json]

Checks what divert needs and prints ok / warn / FAIL per check, with the exact fix:
  addon      the native addon: prebuilt for this machine or built from source, and loaded
  kernel     over netlink, in a throwaway namespace: nfnetlink_queue (binds a queue), nf_tables
             with owner tables, the queue expression or the compat NFQUEUE target, nft_ct
             (--defragment), and the clsact qdisc, cls_bpf and act_mirred (inbound injection);
             build options from /proc/config.gz
  programs   ip (the demo's namespaces) and unshare (rootless runs); divert itself needs none
  access     CAP_NET_ADMIN, and whether user namespaces allow running without root
Exit status 0 when divert is usable here, 1 when something must be fixed first.

Options:
  --json       print the results as JSON
  -h, --help   show this help
`;

/** Runs every check (in order of the report). */
export async function runChecks(): Promise<CheckResult[]> {
  const userns = await checkUserNamespaces();
  const privileged = hasCapability(CAP_NET_ADMIN) && hasCapability(CAP_SYS_ADMIN);
  const native = checkNative();
  return [
    native,
    checkPrivileges(userns.status === 'ok'),
    userns,
    ...checkBinaries(),
    ...checkKernelConfig(),
    ...(await checkLive(privileged, native.status === 'ok')),
  ];
}

/** Runs `divert doctor` with argv after "doctor"; returns the exit code. */
export async function doctorCommand(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const { values } = parseArgs({ args: [...argv], options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
    if (values.help) {
      io.stdout(DOCTOR_HELP);
      return 0;
    }
    const results = await runChecks();
    io.stdout(values.json ? JSON.stringify({ usable: reportExitCode(results) === 0, checks: results }, null, 2) + '\n' : formatReport(results));
    return reportExitCode(results);
  } catch (err) {
    return reportError('divert doctor', err, io);
  }
}
