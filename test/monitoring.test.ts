// The Grafana dashboard and the Prometheus alert rules in deploy/monitoring, checked with Prometheus's own
// promtool (the rules load; each alert fires when it should and stays quiet when it should not; every panel's
// PromQL parses) and against a running Cordon (an API and a worker with the SDK's exporter): every metric and
// label they read is one that Cordon or the Temporal SDK really serves.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startApi, type RunningApi } from '../api/main';
import { parseConfig } from '../infra/config';
import { freePort } from '../scripts/dev-server';
import { ROOT } from '../scripts/temporal-tools';
import { spawnCommand, stopCordon, waitForOutput, type Started } from './helpers/cordon-process';
import { quiet } from './helpers/deps';
import { riskEvent, uniqueAccount } from './helpers/events';
import { callApi, eventually } from './helpers/harness';
import { requires, requiresInTest } from './helpers/requirements';
import { sharedDevServer, TEST_CODEC_KEYS, workflowBundle } from './helpers/servers';

const DIR = join(ROOT, 'deploy', 'monitoring');
const read = (file: string) => readFileSync(join(DIR, file), 'utf8');

/** Grafana 12's classic dashboard model: its last schema version (the one Grafana exports and migrates to). */
const CURRENT_SCHEMA_VERSION = 42;
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
/** Grafana's own variables, replaced by what Grafana would put there so that promtool can parse the query. */
const GRAFANA_VARIABLES: Record<string, string> = {
  $__rate_interval: '4m',
  $__interval: '1m',
  $__range: '1d',
};
/** Labels every scraped series has, whatever the metric. */
const SCRAPE_LABELS = ['instance', 'job'];

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface UnitTests {
  rule_files: string[];
  tests: { name?: string; alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}
interface Target {
  refId: string;
  expr: string;
  datasource?: unknown;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: unknown;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  panels?: Panel[];
}

const alerts = (parse(read('cordon-alerts.yml')) as { groups: { rules: AlertRule[] }[] }).groups.flatMap(
  (g) => g.rules,
);
const dashboard = JSON.parse(read('cordon-dashboard.json')) as {
  schemaVersion: number;
  templating: { list: { name: string; type: string; query: string }[] };
  panels: Panel[];
};
const allPanels = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
const queries = allPanels(dashboard.panels).flatMap((p) =>
  (p.targets ?? []).map((t) => ({ panel: p, ...t })),
);
/** Every PromQL expression of the two files, named for messages. */
const expressions = [
  ...alerts.map((a) => ({ where: `alert ${a.alert}`, expr: a.expr })),
  ...queries.map((q) => ({ where: `panel ${q.panel.id} "${q.panel.title}" ${q.refId}`, expr: q.expr })),
];

/** A program's exit status and output, without blocking this process's event loop. */
function run(
  command: string,
  args: string[],
  cwd: string,
): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, output }));
  });
}

/** The metrics an expression reads (with the labels its matchers name) and the labels it groups or joins by. */
function promqlReads(expr: string): { metrics: Map<string, Set<string>>; grouping: Set<string> } {
  const metrics = new Map<string, Set<string>>();
  const note = (name: string) => metrics.get(name) ?? metrics.set(name, new Set()).get(name)!;
  const grouping = new Set<string>();
  let rest = expr.replace(
    /([a-zA-Z_:][\w:]*)?\s*\{([^}]*)\}/g,
    (_, name: string | undefined, body: string) => {
      const labels = [...body.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"/g)].map(
        (m) => m[1]!,
      );
      assert.ok(name, `a selector without a metric name in ${expr}`);
      for (const l of labels) note(name).add(l);
      return ` ${name} `;
    },
  );
  rest = rest.replace(
    /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g,
    (_, list: string) => {
      for (const l of list.split(',').map((s) => s.trim())) if (l) grouping.add(l);
      return ' ';
    },
  );
  rest = rest.replace(/\[[^\]]*\]/g, ' ').replace(/"(?:[^"\\]|\\.)*"/g, ' ');
  const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'by', 'without', 'on']);
  for (const m of rest.matchAll(/(?<![\w.])([a-zA-Z_:][\w:]*)(?=\s*(\(?))/g)) {
    if (m[2] === '(' || keywords.has(m[1]!.toLowerCase())) continue; // a function, or an operator
    note(m[1]!);
  }
  return { metrics, grouping };
}

/** A family's type and the labels seen on it (none seen: its labels are not known). */
type Families = Map<string, { type: string; labels?: Set<string> }>;

/** The families of a Prometheus text exposition, with the labels of their samples. */
function exposition(text: string): Families {
  const families: Families = new Map();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(m[1]!, { type: m[2]! });
  for (const m of text.matchAll(/^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? /gm)) {
    const family = families.get(m[1]!) ?? families.get(m[1]!.replace(/_(?:bucket|sum|count)$/, ''));
    if (!family) continue;
    family.labels ??= new Set();
    for (const l of (m[2] ?? '').matchAll(/(\w+)="/g)) if (l[1] !== 'le') family.labels.add(l[1]!);
  }
  return families;
}

/** deploy/monitoring/temporal-sdk-metrics.txt: name, type, when it is served, labels. */
const sdkList = read('temporal-sdk-metrics.txt')
  .split('\n')
  .filter((line) => line.trim() && !line.startsWith('#'))
  .map((line) => {
    const [name, type, when, labels] = line.trim().split(/\s+/);
    assert.ok(name && type && (when === 'working' || when === 'once-seen') && labels, `bad line: ${line}`);
    return { name, type, when, labels: new Set(labels.split(',')) };
  });

/** The family a name reads (a histogram's _bucket, _sum and _count read the histogram). */
function familyOf(name: string, families: Families): string | undefined {
  if (families.has(name)) return name;
  const base = name.replace(/_(?:bucket|sum|count)$/, '');
  return families.get(base)?.type === 'histogram' ? base : undefined;
}

/** GitHub's anchors of a markdown file's headings (outside code fences). */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
    if (heading)
      anchors.add(
        heading[1]!
          .trim()
          .toLowerCase()
          .replace(/[^\p{L}\p{N}\s_-]/gu, '')
          .replace(/\s/g, '-'),
      );
  }
  return anchors;
}

describe('monitoring: the Grafana dashboard and the Prometheus alert rules', function () {
  describe('the alert rules, with promtool', function () {
    requires('promtool');
    this.timeout(180_000);

    it('load: promtool check rules cordon-alerts.yml', async () => {
      const { status, output } = await run('promtool', ['check', 'rules', 'cordon-alerts.yml'], DIR);
      assert.equal(status, 0, output);
      assert.match(output, new RegExp(`SUCCESS: ${alerts.length} rules found`));
    });

    it('fire when they should and stay quiet when they should not: promtool test rules cordon-alerts.test.yml', async () => {
      const tests = parse(read('cordon-alerts.test.yml')) as UnitTests;
      assert.deepEqual(tests.rule_files, ['cordon-alerts.yml']);
      const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
      for (const a of alerts) {
        const mine = cases.filter((c) => c.alertname === a.alert);
        assert.ok(
          mine.some((c) => c.exp_alerts?.length),
          `${a.alert}: no case where it fires`,
        );
        assert.ok(
          mine.some((c) => !c.exp_alerts?.length),
          `${a.alert}: no case where it stays quiet`,
        );
      }
      const { status, output } = await run('promtool', ['test', 'rules', 'cordon-alerts.test.yml'], DIR);
      assert.equal(status, 0, output);
      assert.match(output, /SUCCESS/);
    });
  });

  describe('the alert rules, for whoever is paged', function () {
    it('each waits (for), has a severity, a summary, and a description naming documents that exist', () => {
      assert.ok(alerts.length > 0);
      for (const a of alerts) {
        assert.match(a.for ?? '', /^\d+[smh]$/, `${a.alert}: for`);
        assert.ok(['critical', 'warning'].includes(a.labels?.severity ?? ''), `${a.alert}: severity`);
        assert.ok(a.annotations?.summary, `${a.alert}: summary`);
        const refs = [...(a.annotations?.description ?? '').matchAll(/\bdocs\/[\w./-]+?\.md(?:#[\w-]+)?/g)];
        assert.ok(refs.length > 0, `${a.alert}: its description names no document under docs/`);
        for (const [ref] of refs) {
          const [path, anchor] = ref.split('#');
          assert.ok(existsSync(join(ROOT, path!)), `${a.alert}: ${path} does not exist`);
          if (anchor)
            assert.ok(
              anchorsOf(readFileSync(join(ROOT, path!), 'utf8')).has(anchor),
              `${a.alert}: ${path} has no heading #${anchor}`,
            );
        }
      }
    });
  });

  describe('the dashboard', function () {
    it('is a current Grafana dashboard on a Prometheus data source variable, with no data source written in', () => {
      assert.equal(dashboard.schemaVersion, CURRENT_SCHEMA_VERSION);
      const variable = dashboard.templating.list.find((v) => v.name === 'datasource');
      assert.deepEqual(variable && { type: variable.type, query: variable.query }, {
        type: 'datasource',
        query: 'prometheus',
      });
      // Every data source anywhere in the JSON is the variable: no UID of somebody's Grafana.
      const seen: unknown[] = [];
      JSON.parse(read('cordon-dashboard.json'), (key, value: unknown) => {
        if (key === 'datasource') seen.push(value);
        return value;
      });
      assert.ok(seen.length > 0);
      for (const d of seen) assert.deepEqual(d, DATASOURCE);
      assert.doesNotMatch(read('cordon-dashboard.json'), /__inputs|DS_PROMETHEUS/);
    });

    it('has unique panel ids, a query on every panel but the rows, and panels that fit the grid without overlapping', () => {
      const panels = allPanels(dashboard.panels);
      assert.equal(new Set(panels.map((p) => p.id)).size, panels.length, 'panel ids are unique');
      const rows = panels.filter((p) => p.type === 'row').map((p) => p.title);
      assert.deepEqual(rows.slice(0, 6), [
        'Intake',
        'Restrictions',
        'Review',
        'Deliveries',
        'Guards',
        'Temporal',
      ]);
      const taken = new Set<string>();
      for (const p of panels) {
        const { x, y, w, h } = p.gridPos;
        assert.ok(x >= 0 && w > 0 && x + w <= 24, `panel ${p.id} fits the 24 columns`);
        for (let i = x; i < x + w; i++)
          for (let j = y; j < y + h; j++) {
            assert.ok(!taken.has(`${i},${j}`), `panel ${p.id} "${p.title}" overlaps another`);
            taken.add(`${i},${j}`);
          }
        if (p.type === 'row') continue;
        assert.deepEqual(p.datasource, DATASOURCE, `panel ${p.id}`);
        const targets = p.targets ?? [];
        assert.ok(targets.length, `panel ${p.id} "${p.title}" has no query`);
        assert.equal(new Set(targets.map((t) => t.refId)).size, targets.length, `panel ${p.id} refIds`);
        for (const t of targets) assert.ok(t.expr.trim(), `panel ${p.id} ${t.refId}: an empty query`);
      }
    });

    it("every panel's query is PromQL that promtool parses (as recording rules), and a broken one is refused", async function () {
      requiresInTest(this, 'promtool');
      this.timeout(60_000);
      const dir = mkdtempSync(join(tmpdir(), 'cordon-dashboard-rules-'));
      try {
        const check = async (rules: { record: string; expr: string }[]) => {
          writeFileSync(join(dir, 'rules.yml'), JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
          return run('promtool', ['check', 'rules', 'rules.yml'], dir);
        };
        const rules = queries.map((q) => {
          let expr = q.expr;
          for (const [variable, value] of Object.entries(GRAFANA_VARIABLES))
            expr = expr.replaceAll(variable, value);
          assert.doesNotMatch(expr, /\$/, `panel ${q.panel.id} ${q.refId}: a variable left in ${expr}`);
          return { record: `dashboard:panel_${q.panel.id}_${q.refId}`, expr };
        });
        const { status, output } = await check(rules);
        assert.equal(status, 0, output);
        assert.match(output, new RegExp(`SUCCESS: ${rules.length} rules found`));
        // The same check on one query broken as a typo would break it: promtool says where.
        const broken = await check([{ ...rules[0]!, expr: rules[0]!.expr.replace(/\)$/, '') }]);
        assert.notEqual(broken.status, 0, 'promtool refuses an expression that does not parse');
        assert.match(broken.output, /dashboard:panel_\d+_A.*parse error/s);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('the metrics they read, against a running Cordon', function () {
    requires('temporal');
    this.timeout(120_000);
    let dataDir: string | undefined;
    let worker: Started | undefined;
    let api: RunningApi | undefined;
    /** One scrape of the API's /metrics: Cordon's figures and the worker's SDK figures appended. */
    let scraped: Families;

    before(async function () {
      this.timeout(300_000);
      dataDir = mkdtempSync(join(tmpdir(), 'cordon-monitoring-'));
      const bundle = join(dataDir, 'workflow-bundle.js');
      writeFileSync(bundle, (await workflowBundle()).code);
      const metricsPort = await freePort();
      const env = {
        TEMPORAL_ADDRESS: (await sharedDevServer()).address,
        CORDON_TASK_QUEUE: `tq-monitoring-${metricsPort}`,
        CORDON_DATA_DIR: dataDir,
        CORDON_CODEC_KEYS: TEST_CODEC_KEYS,
        CORDON_WORKFLOW_BUNDLE: bundle,
        CORDON_SDK_METRICS_PORT: String(metricsPort),
      };
      // The worker as `npm run worker` runs it (its own process: the SDK's exporter is per process), and the API
      // here on its data folder and task queue, appending the exporter's figures to /metrics as `npm start` does.
      worker = spawnCommand(process.execPath, ['--import', 'tsx', 'worker/main.ts'], env);
      await waitForOutput(worker, 'worker started', 120_000);
      api = await startApi(parseConfig({ ...env, PORT: '0' }), quiet);
      const call = (method: string, path: string, token: string, body?: unknown) =>
        callApi(api!.url, method, path, token, body);

      // A case through review: a restriction, an appeal, a claim, a refused claim and a decision, so that the
      // counters have samples (their labels) and the worker has run workflow tasks and activities.
      const opened = await call(
        'POST',
        '/v1/risk-events',
        'dev-backend',
        riskEvent(uniqueAccount(), 'IDENTITY_CHECK', { matched: false, field: 'name' }),
      );
      assert.equal(opened.status, 200, JSON.stringify(opened.body));
      const caseId = opened.body.caseId as string;
      const appeal = { statement: 'it was me', requestId: 'a' };
      assert.equal((await call('POST', `/v1/cases/${caseId}/appeal`, 'dev-backend', appeal)).status, 200);
      assert.equal((await call('POST', `/v1/cases/${caseId}/claim`, 'dev-reviewer-1')).status, 200);
      assert.equal((await call('POST', `/v1/cases/${caseId}/claim`, 'dev-reviewer-2')).status, 409);
      const decision = { decision: 'UNLOCK', rationale: 'verified', requestId: 'd' };
      assert.equal(
        (await call('POST', `/v1/cases/${caseId}/decision`, 'dev-reviewer-1', decision)).status,
        200,
      );

      const working = sdkList.filter((m) => m.when === 'working').map((m) => m.name);
      scraped = await eventually(
        async () => {
          const families = exposition(await (await fetch(`${api!.url}/metrics`)).text());
          // The API's own requests have samples too: the HTTP alert's and panels' labels are checked below.
          const counted = ['cordon_decisions_total', 'cordon_http_requests_total'].every(
            (n) => families.get(n)?.labels,
          );
          return working.every((n) => families.has(n)) && counted ? families : false;
        },
        60_000,
        "the SDK's everyday metrics, the decision and the API's requests counted in one scrape",
      );
    });

    after(async function () {
      this.timeout(60_000);
      await api?.close();
      if (worker) await stopCordon(worker);
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('every metric they read is served by Cordon or listed for the Temporal SDK, and so is every label', () => {
      // Cordon's from the scrape (a family without samples there, such as the tripped guards' gauge while none
      // is, has its name checked and not its labels); the SDK's from the list the next test checks.
      const known: Families = new Map([
        ...[...scraped].filter(([n]) => n.startsWith('cordon_')),
        ...sdkList.map((m) => [m.name, { type: m.type, labels: m.labels }] as const),
      ]);
      const unknown: string[] = [];
      for (const { where, expr } of expressions) {
        const { metrics, grouping } = promqlReads(expr);
        assert.ok(metrics.size > 0, `${where}: reads no metric`);
        const families = [...metrics.keys()].map((name) => familyOf(name, known));
        [...metrics.keys()].forEach((name, i) => {
          if (!families[i] || (!name.startsWith('cordon_') && !name.startsWith('temporal_')))
            unknown.push(`${where}: ${name}`);
        });
        const labelsOf = (family: string | undefined) => {
          const f = family ? known.get(family) : undefined;
          return f?.labels && [...f.labels, ...SCRAPE_LABELS, ...(f.type === 'histogram' ? ['le'] : [])];
        };
        [...metrics].forEach(([name, matched], i) => {
          const labels = labelsOf(families[i]);
          for (const l of matched)
            if (labels)
              assert.ok(labels.includes(l), `${where}: ${name} has no label ${l} (${labels.join(', ')})`);
        });
        const all = families.map(labelsOf);
        if (all.every(Boolean))
          for (const l of grouping)
            assert.ok(all.flat().includes(l), `${where}: groups by ${l}, which none of its metrics has`);
      }
      assert.deepEqual(unknown, [], 'metrics that neither Cordon nor the Temporal SDK serves');
    });

    it("the Temporal SDK's list is what a worker serves: its everyday metrics, their types and their labels", () => {
      const listed = new Map(sdkList.map((m) => [m.name, m]));
      for (const [name, family] of scraped) {
        if (!name.startsWith('temporal_')) continue;
        const entry = listed.get(name);
        assert.ok(entry, `${name} is served but not in temporal-sdk-metrics.txt`);
        assert.equal(family.type, entry.type, `${name}'s type`);
        for (const l of family.labels ?? [])
          assert.ok(
            entry.labels.has(l) || SCRAPE_LABELS.includes(l),
            `${name} carries ${l}, not in temporal-sdk-metrics.txt`,
          );
      }
      for (const m of sdkList.filter((e) => e.when === 'working'))
        assert.ok(scraped.has(m.name), `${m.name} is listed as served by a working worker, and it is not`);
    });
  });
});
