export { caseWorkflow } from './case';
export { bulkActionWorkflow } from './bulk-action';
