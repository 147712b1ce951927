// What the test suites need from the machine, checked before `npm test` provisions anything: the Temporal CLI
// (or Go to build it), PostgreSQL's server programs, headless Chromium, Python to install moto and
// schemathesis from PyPI, and Prometheus's promtool for the alert rules and the dashboard (plus, for
// CORDON_CLUSTER_TEST=1, the cluster's Temporal programs). Each missing thing is named with how to get it.
// Outside CI the suites that need it are skipped, each saying why (the suites declare their needs with
// test/helpers/requirements.ts, which runs these same checks); with CI set (.ci/run exports CI=true) a missing
// thing fails the run. Then, as `npm test` always did, the Temporal CLI is built with
// Go if it is not there yet (docs/testing.md).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { findTool, TOOLS } from './cluster/tools';
import { MOTO_DIR } from './moto';
import { SCHEMATHESIS_DIR } from './schemathesis';
import { ensureTemporalCli, onPath, ROOT, TOOLS_DIR } from './temporal-tools';

export type Requirement = 'temporal' | 'cluster-tools' | 'postgres' | 'chromium' | 'python' | 'promtool';

export interface Finding {
  requirement: Requirement;
  /** What it is, for a person: "PostgreSQL's server programs (initdb, pg_ctl)". */
  what: string;
  ok: boolean;
  /** Where it was found, or why it counts as missing. */
  detail: string;
  /** How to get it (only when missing). */
  fix?: string;
  /** The suites that cannot run without it. */
  neededBy: string;
}

/**
 * When it is asked: before provisioning, a Temporal CLI that Go can still build counts as there (`npm test`
 * builds it next); once the tests run, only a built one does (a mocha hook cannot wait minutes for a build).
 */
export type Phase = 'before-provisioning' | 'tests';

/** CI set to anything, as the existing moto and schemathesis skips read it: a missing requirement fails. */
export const inCI = (): boolean => Boolean(process.env.CI);

/** Go's module for the Temporal CLI needs Go 1.25; Go 1.21 or later fetches that toolchain itself. */
const GO_MIN_MINOR = 21;
const GO_ADVICE = 'install Go 1.25+ (Go 1.21-1.24 fetch 1.25 through the module proxy)';

/** A path as a person reads it: relative to the repository when inside it. */
const shown = (path: string) => (path.startsWith(ROOT) ? relative(ROOT, path) : path);

function executable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Go on PATH, if it is new enough to build Temporal's modules; why not otherwise. */
function go(): { ok: true; version: string } | { ok: false; why: string } {
  const path = onPath('go');
  if (!path) return { ok: false, why: 'no Go on PATH' };
  const out = spawnSync(path, ['version'], { encoding: 'utf8', timeout: 30_000 }).stdout ?? '';
  const m = /go1\.(\d+)(\.\d+)?/.exec(out);
  if (!m) return { ok: false, why: `${path} does not say its version` };
  const version = m[0].slice(2);
  if (Number(m[1]) < GO_MIN_MINOR) return { ok: false, why: `Go ${version} is too old` };
  return { ok: true, version };
}

function temporal(phase: Phase): Finding {
  const base = {
    requirement: 'temporal' as const,
    what: 'the Temporal CLI (its dev server)',
    neededBy: 'every suite that runs a Temporal server',
  };
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv)
    return executable(fromEnv)
      ? { ...base, ok: true, detail: `${fromEnv} (TEMPORAL_CLI)` }
      : {
          ...base,
          ok: false,
          detail: `TEMPORAL_CLI=${fromEnv} is no executable file`,
          fix: 'fix or unset it',
        };
  // The order ensureTemporalCli looks in: TEMPORAL_CLI (above), PATH, the build cached in .tools/bin.
  const cached = join(TOOLS_DIR, 'bin', 'temporal');
  const found = onPath('temporal') ?? (existsSync(cached) ? cached : undefined);
  if (found) return { ...base, ok: true, detail: shown(found) };
  const g = go();
  if (g.ok && phase === 'before-provisioning')
    return {
      ...base,
      ok: true,
      detail: `not built yet: Go ${g.version} builds it next (about 4 minutes, once)`,
    };
  if (g.ok)
    return {
      ...base,
      ok: false,
      detail: 'not built yet (.tools/bin/temporal)',
      fix: '`npm run provision` builds it with Go (as `npm test` does first)',
    };
  return {
    ...base,
    ok: false,
    detail: `not on PATH, not built in .tools/bin, and ${g.why} to build it`,
    fix: `${GO_ADVICE}, and \`npm test\` builds it once (about 4 minutes); or name a temporal v1.5.1 in TEMPORAL_CLI`,
  };
}

function clusterTools(): Finding {
  const base = {
    requirement: 'cluster-tools' as const,
    what: "the cluster's Temporal server, SQL tool and Web UI server",
    neededBy: 'test/cluster.test.ts (CORDON_CLUSTER_TEST=1)',
  };
  const missing: string[] = [];
  for (const spec of Object.values(TOOLS)) {
    try {
      if (!findTool(spec)) missing.push(spec.what);
    } catch (err) {
      return { ...base, ok: false, detail: (err as Error).message, fix: `unset or fix ${spec.envVar}` };
    }
  }
  if (!missing.length) return { ...base, ok: true, detail: 'built in .tools/ (or named by their variables)' };
  const g = go();
  if (g.ok)
    return {
      ...base,
      ok: true,
      detail: `not built yet: the cluster test builds them with Go ${g.version} (minutes, once)`,
    };
  return {
    ...base,
    ok: false,
    detail: `${missing.join(', ')} not built, and ${g.why} to build them`,
    fix:
      `${GO_ADVICE}, then \`npm run provision -- --cluster\`; or set ` +
      Object.values(TOOLS)
        .map((t) => t.envVar)
        .join(', '),
  };
}

/** Where scripts/postgres.ts finds initdb and pg_ctl: PATH, else the newest /usr/lib/postgresql/<n>/bin. */
function postgresPrograms(): string | undefined {
  const initdb = onPath('initdb');
  if (initdb && onPath('pg_ctl')) return dirname(initdb);
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const newest = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  const bin = newest && join(root, newest, 'bin');
  return bin && executable(join(bin, 'initdb')) && executable(join(bin, 'pg_ctl')) ? bin : undefined;
}

function postgres(): Finding {
  const base = {
    requirement: 'postgres' as const,
    what: "PostgreSQL's server programs (initdb, pg_ctl)",
    neededBy: 'the suites and tests on PostgreSQL',
    fix: 'apt-get install postgresql-15 (the version tested)',
  };
  const bin = postgresPrograms();
  if (!bin) return { ...base, ok: false, detail: 'not on PATH nor in /usr/lib/postgresql/*/bin' };
  // As root, scripts/postgres.ts runs the server as the postgres user (PostgreSQL refuses to run as root).
  if (process.getuid?.() === 0) {
    if (!onPath('runuser'))
      return { ...base, ok: false, detail: 'as root, runuser is needed', fix: 'apt-get install util-linux' };
    if (spawnSync('id', ['-u', 'postgres']).status !== 0)
      return {
        ...base,
        ok: false,
        detail: 'as root, the server runs as the postgres user, and there is none',
        fix: 'useradd --system postgres (the postgresql package creates it)',
      };
  }
  const version = spawnSync(join(bin, 'pg_ctl'), ['--version'], { encoding: 'utf8', timeout: 30_000 });
  const found = `${bin}${version.stdout ? ` (${version.stdout.trim()})` : ''}`;
  return { ...base, ok: true, detail: found, fix: undefined };
}

/** The binary test/helpers/browser.ts launches: CORDON_CHROMIUM, else Debian's /usr/bin/chromium. */
export const chromiumPath = (): string => process.env.CORDON_CHROMIUM || '/usr/bin/chromium';

function chromium(): Finding {
  const path = chromiumPath();
  const named = Boolean(process.env.CORDON_CHROMIUM);
  const base = {
    requirement: 'chromium' as const,
    what: 'headless Chromium',
    neededBy: "the browser tests (console, user's page, sessions, Web UI)",
  };
  if (executable(path)) return { ...base, ok: true, detail: path };
  return {
    ...base,
    ok: false,
    detail: named ? `CORDON_CHROMIUM=${path} is no executable file` : `no ${path}`,
    fix: 'apt-get install chromium, or name a Chromium or Chrome binary in CORDON_CHROMIUM',
  };
}

function python(): Finding {
  const interpreter = process.env.CORDON_PYTHON ?? 'python3';
  const base = {
    requirement: 'python' as const,
    what: `Python 3 with venv (${interpreter}, to install moto and schemathesis from PyPI)`,
    neededBy: 'the S3 evidence store and schemathesis suites',
  };
  const r = spawnSync(interpreter, ['-c', 'import sys, venv, ensurepip; print(sys.version.split()[0])'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status === 0) return { ...base, ok: true, detail: `Python ${r.stdout.trim()}` };
  // Environments installed earlier keep working without venv (they still need their interpreter).
  const installed = [MOTO_DIR, SCHEMATHESIS_DIR].map((d) => join(d, 'bin', 'python'));
  if (installed.every(executable))
    return { ...base, ok: true, detail: 'moto and schemathesis installed in .tools/' };
  return {
    ...base,
    ok: false,
    detail: r.error
      ? `no ${interpreter} on PATH`
      : `${interpreter} cannot make virtual environments (no venv or ensurepip module)`,
    fix: 'apt-get install python3 python3-venv, or name a Python 3 with venv in CORDON_PYTHON',
  };
}

/** Prometheus's rule checker, which the monitoring suite runs on deploy/monitoring (Debian: package prometheus). */
function promtool(): Finding {
  const base = {
    requirement: 'promtool' as const,
    what: "Prometheus's promtool",
    neededBy: 'the alert rules and dashboard suite (test/monitoring.test.ts)',
  };
  const path = onPath('promtool');
  if (!path)
    return {
      ...base,
      ok: false,
      detail: 'no promtool on PATH',
      fix: 'apt-get install prometheus (it brings promtool), or put a promtool 2.x on PATH',
    };
  const version = /version (\S+)/.exec(
    spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 30_000 }).stdout ?? '',
  );
  return { ...base, ok: true, detail: version ? `${path} (${version[1]})` : path };
}

const checks: Record<Requirement, (phase: Phase) => Finding> = {
  temporal,
  'cluster-tools': clusterTools,
  postgres,
  chromium,
  python,
  promtool,
};

const memo = new Map<string, Finding>();

/** One requirement's finding, checked once per process and phase (a check can start a program). */
export function check(requirement: Requirement, phase: Phase): Finding {
  const key = `${requirement} ${phase}`;
  let finding = memo.get(key);
  if (!finding) memo.set(key, (finding = checks[requirement](phase)));
  return finding;
}

/** "X: why. Get it: how", what the preflight prints and a skipped suite says. */
export const describeMissing = (f: Finding): string => `${f.what}: ${f.detail}. Get it: ${f.fix}`;

function say(line: string): void {
  process.stderr.write(`[preflight] ${line}\n`);
}

async function main(): Promise<number> {
  const wanted: Requirement[] = ['temporal', 'postgres', 'chromium', 'python', 'promtool'];
  if (process.env.CORDON_CLUSTER_TEST === '1') wanted.push('cluster-tools');
  const findings = wanted.map((r) => check(r, 'before-provisioning'));
  for (const f of findings)
    say(f.ok ? `ok       ${f.what}: ${f.detail}` : `MISSING  ${describeMissing(f)}. Skipped: ${f.neededBy}`);
  const missing = findings.filter((f) => !f.ok);
  if (missing.length && inCI()) {
    say(
      `${missing.length} missing, and CI is set: in CI a missing requirement fails the run (elsewhere it skips)`,
    );
    return 1;
  }
  if (missing.length)
    say(
      `${missing.length} missing: the suites that need it are skipped, each saying why (CI=true fails instead)`,
    );
  if (!findings[0]!.ok) return 0;
  try {
    await ensureTemporalCli(); // finds it, or builds it with Go (scripts/temporal-tools.ts)
  } catch (err) {
    say(`could not build the Temporal CLI: ${(err as Error).message}`);
    if (inCI()) return 1;
    say('the suites that need a Temporal server are skipped');
  }
  return 0;
}

if (require.main === module)
  main().then(
    (code) => process.exit(code),
    (err: Error) => {
      say(`failed: ${err.stack ?? err.message}`);
      process.exit(1);
    },
  );
