// The deployment files as the tests read them: the Kubernetes manifests (with the environment a pod gets) and
// the Dockerfile, parsed into stages whose steps can be executed in scratch folders (no container engine runs
// here: a stage's filesystem root is a temporary folder; COPY copies, RUN runs in a shell there).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, join, posix } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const ROOT = join(__dirname, '..', '..');
export const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

export interface K8sDoc {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: any;
}

export const k8sDocs: K8sDoc[] = readdirSync(join(ROOT, 'deploy/k8s'))
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(read(`deploy/k8s/${f}`)).map((d) => d.toJS() as K8sDoc));

export function k8sDoc(kind: string, name: string): K8sDoc {
  const doc = k8sDocs.find((d) => d.kind === kind && d.metadata.name === name);
  assert.ok(doc, `${kind} ${name}`);
  return doc;
}

export const containerOf = (name: string) => k8sDoc('Deployment', name).spec.template.spec.containers[0];

/** The environment a pod gets: the ConfigMap and the Secret (placeholders made valid), then its own env. */
export function podEnv(container: { env?: { name: string; value: string }[] }): Record<string, string> {
  const env: Record<string, string> = { ...k8sDoc('ConfigMap', 'cordon-config').data };
  const key = Buffer.alloc(32, 7).toString('base64');
  for (const [k, v] of Object.entries(k8sDoc('Secret', 'cordon-secrets').stringData ?? {}))
    env[k] = v.replace(/CHANGE-ME-base64-of-32-random-bytes=/, key).replace(/CHANGE-ME/g, 'changed');
  for (const e of container.env ?? []) env[e.name] = e.value;
  return env;
}

export type Step =
  | { kind: 'COPY'; from?: string; chown?: string; sources: string[]; dest: string }
  | { kind: 'RUN'; command: string }
  | { kind: 'WORKDIR'; path: string };

export interface Stage {
  image: string;
  name?: string;
  /** ENV, in order; WORKDIR as the last one set. */
  env: Record<string, string>;
  workdir: string;
  steps: Step[];
  user?: string;
  expose: number[];
  cmd?: string[];
}

/** The Dockerfile's stages; an instruction this parser does not know fails (the test follows the file). */
export function parseDockerfile(text: string): Stage[] {
  const lines: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw)) continue; // comments, inside continuations too
    const line = raw.trimEnd();
    if (line.endsWith('\\')) pending += `${line.slice(0, -1)} `;
    else {
      const whole = (pending + line).trim();
      pending = '';
      if (whole) lines.push(whole);
    }
  }
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, instruction, rest] = /^(\w+)\s+([\s\S]*)$/.exec(line) ?? [];
    assert.ok(instruction && rest !== undefined, `Dockerfile line: ${line}`);
    if (instruction === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      assert.ok(m, `FROM ${rest}`);
      stages.push({ image: m[1]!, name: m[2], env: {}, workdir: '/', steps: [], expose: [] });
      continue;
    }
    const stage = stages.at(-1);
    assert.ok(stage, `${instruction} before FROM`);
    switch (instruction) {
      case 'WORKDIR':
        stage.workdir = posix.resolve(stage.workdir, rest);
        stage.steps.push({ kind: 'WORKDIR', path: stage.workdir });
        break;
      case 'ENV':
        for (const m of rest.matchAll(/(\w+)=("[^"]*"|\S+)/g)) stage.env[m[1]!] = m[2]!.replace(/^"|"$/g, '');
        break;
      case 'COPY': {
        const words = rest.split(/\s+/);
        const flags = Object.fromEntries(
          words.filter((w) => w.startsWith('--')).map((w) => w.slice(2).split('=') as [string, string]),
        );
        for (const flag of Object.keys(flags)) assert.ok(['from', 'chown'].includes(flag), `COPY --${flag}`);
        const paths = words.filter((w) => !w.startsWith('--'));
        assert.ok(paths.length >= 2, `COPY ${rest}`);
        stage.steps.push({
          kind: 'COPY',
          from: flags.from,
          chown: flags.chown,
          sources: paths.slice(0, -1),
          dest: paths.at(-1)!,
        });
        break;
      }
      case 'RUN':
        stage.steps.push({ kind: 'RUN', command: rest });
        break;
      case 'USER':
        stage.user = rest;
        break;
      case 'EXPOSE':
        stage.expose.push(...rest.split(/\s+/).map(Number));
        break;
      case 'CMD':
        stage.cmd = JSON.parse(rest) as string[];
        break;
      default:
        assert.fail(`Dockerfile instruction ${instruction}: not something the image test knows how to run`);
    }
  }
  return stages;
}

/** A stage's files: its root folder stands for the image's "/". */
export interface BuiltStage {
  stage: Stage;
  root: string;
  /** The stage's WORKDIR on this machine. */
  workdir: string;
}

const NPM_CACHE = process.env.npm_config_cache || join(homedir(), '.npm');

/** This process's environment without what an enclosing `npm test` sets for its own scripts (npm_*). */
function hostEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'INIT_CWD' && k !== 'NODE_ENV'),
  );
}

function run(command: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(new Error(`RUN ${command} (in ${cwd}) ended with ${code ?? signal}:\n${output.slice(-3000)}`));
    });
  });
}

/**
 * RUN steps execute on this machine, not in a container: one that names an absolute path or touches npm's
 * cache (`npm cache clean` would empty the cache every install here shares) is refused before it runs.
 */
export function refuseUnsafeRun(command: string): void {
  assert.doesNotMatch(command, /(^|[\s=:'"])\//, `RUN ${command}: an absolute path would be this machine's`);
  assert.doesNotMatch(command, /\bnpm\s+cache\b/, `RUN ${command}: npm's cache here is shared`);
  assert.doesNotMatch(command, /~|\$HOME\b/, `RUN ${command}: the home folder here is this machine's`);
  assert.doesNotMatch(command, /\.\.\//, `RUN ${command}: outside its WORKDIR`);
}

/**
 * Executes every stage's COPY and RUN steps, in order, in temporary folders: COPY from the build context (the
 * repository) or from an earlier stage's folder, RUN with /bin/sh in the WORKDIR with the stage's ENV over
 * this process's environment plus runEnv (e.g. npm's prefer-offline, to reuse its cache), HOME the stage's
 * folder. Every RUN step is checked by refuseUnsafeRun first. --chown is not applied: the image's users do not
 * exist here, and these files belong to whoever runs the test.
 */
export async function executeStages(
  stages: Stage[],
  o: {
    context: string;
    runEnv?: Record<string, string>;
    stepTimeoutMs: number;
    log?: (line: string) => void;
  },
): Promise<BuiltStage[]> {
  for (const stage of stages)
    for (const step of stage.steps) if (step.kind === 'RUN') refuseUnsafeRun(step.command); // before any runs
  const built: BuiltStage[] = [];
  for (const [i, stage] of stages.entries()) {
    const root = mkdtempSync(join(tmpdir(), `cordon-image-${stage.name ?? i}-`));
    const at = (path: string) => join(root, path);
    let workdir = at('/');
    for (const step of stage.steps) {
      if (step.kind === 'WORKDIR') {
        workdir = at(step.path);
        mkdirSync(workdir, { recursive: true });
      } else if (step.kind === 'COPY') {
        const fromStage = step.from ? built.find((b) => b.stage.name === step.from) : undefined;
        assert.ok(!step.from || fromStage, `COPY --from=${step.from}: no such stage before this one`);
        const dest = step.dest.startsWith('/') ? at(step.dest) : join(workdir, step.dest);
        for (const source of step.sources) {
          const src = fromStage ? join(fromStage.root, posix.resolve('/', source)) : join(o.context, source);
          const into = step.dest.endsWith('/') || step.sources.length > 1;
          const target = into && !statSync(src).isDirectory() ? join(dest, basename(src)) : dest;
          cpSync(src, target, { recursive: true });
        }
      } else {
        o.log?.(`RUN ${step.command}`);
        // npm's cache where it is (by name: HOME moves), so installs reuse it.
        const env = { ...hostEnv(), npm_config_cache: NPM_CACHE, ...stage.env, ...o.runEnv, HOME: root };
        await run(step.command, workdir, env, o.stepTimeoutMs);
      }
    }
    built.push({ stage, root, workdir });
  }
  return built;
}
