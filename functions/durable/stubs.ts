/**
 * Handles on the Durable Objects, typed by their contracts (contracts.ts). The cast is the one place
 * the generated RPC type is set aside: it recurses through JSON-shaped values (search-space
 * assignments) until TypeScript gives up, while the classes are checked against the same contracts.
 */
import type {
  DatasetCatalogContract,
  ApiKeyContract,
  AuditLogContract,
  KeyDirectoryContract,
  ModelMonitorContract,
  ModelRegistryContract,
  StudyCoordinatorContract,
  TrainingSessionContract,
} from './contracts';

export function studyStub(ns: Env['STUDIES'], id: string): StudyCoordinatorContract {
  return ns.get(ns.idFromName(id)) as unknown as StudyCoordinatorContract;
}

export function registryStub(ns: Env['MODELS'], model: string): ModelRegistryContract {
  return ns.get(ns.idFromName(model)) as unknown as ModelRegistryContract;
}

export function sessionStub(ns: Env['SESSIONS'], id: string): TrainingSessionContract {
  return ns.get(ns.idFromName(id)) as unknown as TrainingSessionContract;
}

/** The one dataset catalog (every stored dataset's current version, settings and pins). */
export function catalogStub(ns: Env['DATASET_CATALOG']): DatasetCatalogContract {
  return ns.get(ns.idFromName('datasets')) as unknown as DatasetCatalogContract;
}

export function apiKeyStub(ns: Env['KEYS'], id: string): ApiKeyContract {
  return ns.get(ns.idFromName(id)) as unknown as ApiKeyContract;
}

export function keyDirectoryStub(ns: Env['KEY_DIRECTORY']): KeyDirectoryContract {
  return ns.get(ns.idFromName('directory')) as unknown as KeyDirectoryContract;
}

export function auditStub(ns: Env['AUDIT']): AuditLogContract {
  return ns.get(ns.idFromName('audit')) as unknown as AuditLogContract;
}

export function monitorStub(ns: Env['MONITORS'], model: string): ModelMonitorContract {
  return ns.get(ns.idFromName(model)) as unknown as ModelMonitorContract;
}
