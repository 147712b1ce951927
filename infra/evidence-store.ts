// Evidence files users upload with an appeal or an answer, kept encrypted at rest behind a small interface
// (put / get / delete by opaque reference, listBefore for the sweep). Only the references travel into Temporal;
// the bytes never do. The parts live in infra/evidence/:
//   types.ts        the interface, the metadata, the keys and the reference format
//   seal.ts         the one sealed format (AES-256-GCM, key ID and reference bound as AAD), shared by every store
//   file-store.ts   a local folder: the single-machine default
//   database-store.ts  Cordon's database (PostgreSQL: every API process reaches it)
//   s3-store.ts     an S3-compatible object store (CORDON_EVIDENCE_URL), over s3-client.ts
//   from-config.ts  which of them a configuration means
//   file-check.ts   what a file a user sends may be
// This module re-exports what the user's page, the console and the tests import.
export * from './evidence/types';
export { evidenceKeysFrom } from './evidence/seal';
export { FileEvidenceStore } from './evidence/file-store';
export { checkEvidenceFile, sniffType, type FileCheck } from './evidence/file-check';
