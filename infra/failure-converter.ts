// Loaded by path (DataConverter.failureConverterPath) by the client, the worker and the workflow bundle alike:
// error messages and stack traces travel inside an encoded payload, so the payload codec encrypts them with the
// rest. Workflow-sandbox safe: it imports nothing but @temporalio/common.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
