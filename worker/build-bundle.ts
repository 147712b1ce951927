// `npm run build`'s last step: the workflow bundle prebuilt from the compiled workflows, so a worker started with
// CORDON_WORKFLOW_BUNDLE=dist/workflow-bundle.js loads it instead of running webpack at every start.
import { join } from 'node:path';
import { writeWorkflowBundle } from './create';

if (require.main === module) {
  const file = process.argv[2] ?? join(__dirname, '..', 'workflow-bundle.js');
  writeWorkflowBundle(file).then(
    (path) => process.stdout.write(`workflow bundle written: ${path}\n`),
    (err: unknown) => {
      process.stderr.write(`cannot build the workflow bundle: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
